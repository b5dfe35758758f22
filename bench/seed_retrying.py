"""Run under Outflow's settings: bulk-insert events and deliveries in `retrying`, next attempt a day from now.

`python -m bench.seed_retrying --subscription ID --count N` prints `{"seconds": <time the inserts took>}`.
"""

import argparse
import json
import time
from datetime import timedelta

import django

from bench.load import event

BATCH = 5000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscription", required=True)
    parser.add_argument("--count", type=int, required=True)
    arguments = parser.parse_args()
    django.setup()

    from django.utils import timezone

    from delivery.models import Delivery, Event
    from subscriptions.models import Subscription

    subscription = Subscription.objects.get(pk=arguments.subscription)
    later = timezone.now() + timedelta(days=1)
    started = time.monotonic()
    for start in range(0, arguments.count, BATCH):
        ids = [f"retrying-{n}" for n in range(start, min(start + BATCH, arguments.count))]
        events = Event.objects.bulk_create(
            Event(
                environment_id=subscription.environment_id,
                event_id=event_id,
                name="card-completed",
                payload=event(event_id=event_id),
            )
            for event_id in ids
        )
        Delivery.objects.bulk_create(
            Delivery(
                event=stored,
                subscription=subscription,
                status=Delivery.Status.RETRYING,
                attempts=1,
                next_attempt_at=later,
                last_status_code=503,
                last_error="endpoint answered 503",
            )
            for stored in events
        )
    print(json.dumps({"seconds": time.monotonic() - started}))


if __name__ == "__main__":
    main()

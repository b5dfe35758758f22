"""Fire the peer: reset its tables, make N webhooks to the receiver, then save events from a few threads.

Each save fires django-webhook's post_save signal, which queues one Celery task per webhook. The threads
(each with its own database connection) keep a save's commit wait from pacing the load. Stops saving after
--seconds. Prints `{"started": <unix time of the first save>, "events": <saved>, "seconds": <time saving took>}`.
"""

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import django

SAVING_THREADS = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--prefix", required=True, help="unique prefix of the event ids")
    parser.add_argument("--template", required=True, help="one event as JSON; its id is replaced")
    parser.add_argument("--seconds", type=float, required=True, help="stop saving after this long")
    parser.add_argument("--url", action="append", required=True, help="a webhook URL; repeat for each webhook")
    arguments = parser.parse_args()
    django.setup()

    from django.db import connection
    from django_webhook.models import Webhook, WebhookSecret, WebhookTopic
    from peer.models import AnalyticsEvent

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE django_webhook_webhookevent, peer_analyticsevent")
    Webhook.objects.all().delete()
    topic = WebhookTopic.objects.get(name="peer.AnalyticsEvent/create")
    for url in arguments.url:
        webhook = Webhook.objects.create(url=url)
        webhook.topics.add(topic)
        WebhookSecret.objects.create(webhook=webhook, token="bench-peer-signing-secret")

    template = json.loads(arguments.template)

    def save_share(first: int) -> int:
        """Save events first, first + SAVING_THREADS, ... until done or out of time; how many it saved."""
        saved = 0
        try:
            for n in range(first, arguments.events, SAVING_THREADS):
                if time.time() - started >= arguments.seconds:
                    break
                event_id = f"{arguments.prefix}-{n}"
                AnalyticsEvent(
                    event_id=event_id, name=template["eventName"], payload={**template, "id": event_id}
                ).save()
                saved += 1
        finally:
            connection.close()
        return saved

    started = time.time()
    with ThreadPoolExecutor(max_workers=SAVING_THREADS) as pool:
        saved = sum(pool.map(save_share, range(SAVING_THREADS)))
    print(json.dumps({"started": started, "events": saved, "seconds": time.time() - started}))


if __name__ == "__main__":
    main()

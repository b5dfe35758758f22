"""Waking workers up: one attempt task per batch of a subscription's deliveries (the rows already exist)."""

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings

from config.celery import app

ATTEMPT_TASK = "delivery.tasks.deliveries_attempt"


def deliveries_enqueue(*, due: Iterable[tuple], countdown: float | None = None) -> None:
    """Send tasks for (subscription id, delivery id) pairs, batched per subscription."""
    by_subscription: dict[str, list[str]] = defaultdict(list)
    for subscription_id, delivery_id in due:
        by_subscription[str(subscription_id)].append(str(delivery_id))
    size = settings.OUTFLOW_DELIVERY_BATCH
    with app.producer_or_acquire() as producer:
        for subscription_id, delivery_ids in by_subscription.items():
            for start in range(0, len(delivery_ids), size):
                batch_enqueue(
                    subscription_id=subscription_id,
                    delivery_ids=delivery_ids[start : start + size],
                    countdown=countdown,
                    producer=producer,
                )


def batch_enqueue(*, subscription_id: str, delivery_ids: list[str], countdown: float | None, producer=None) -> None:
    app.send_task(ATTEMPT_TASK, args=(subscription_id, delivery_ids), countdown=countdown, producer=producer)

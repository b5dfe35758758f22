"""Waking workers up: one attempt task per batch of a subscription's deliveries (the rows already exist)."""

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from kombu.exceptions import KombuError

from config.celery import app

logger = logging.getLogger(__name__)

ATTEMPT_TASK = "delivery.tasks.deliveries_attempt"


def deliveries_enqueue(*, due: Iterable[tuple], countdown: float | None = None) -> None:
    """Send tasks for (subscription id, delivery id) pairs, batched per subscription."""
    by_subscription: dict[str, list[str]] = defaultdict(list)
    for subscription_id, delivery_id in due:
        by_subscription[str(subscription_id)].append(str(delivery_id))
    size = settings.OUTFLOW_DELIVERY_BATCH
    try:
        with app.producer_or_acquire() as producer:
            for subscription_id, delivery_ids in by_subscription.items():
                for start in range(0, len(delivery_ids), size):
                    batch = delivery_ids[start : start + size]
                    app.send_task(ATTEMPT_TASK, args=(subscription_id, batch), countdown=countdown, producer=producer)
    except (KombuError, OSError):
        # The rows are already stored: the sweeper sends these tasks again once the broker is back.
        logger.warning(
            "broker unavailable: %d deliveries wait for the sweeper", sum(map(len, by_subscription.values()))
        )

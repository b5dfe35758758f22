"""Waking workers up: send attempt tasks by name (the rows already exist; the broker only signals)."""

from collections.abc import Iterable

from config.celery import app

ATTEMPT_TASK = "delivery.tasks.delivery_attempt"


def deliveries_enqueue(*, delivery_ids: Iterable, countdown: float | None = None) -> None:
    with app.producer_or_acquire() as producer:
        for delivery_id in delivery_ids:
            app.send_task(ATTEMPT_TASK, args=(str(delivery_id),), countdown=countdown, producer=producer)

"""Celery entry points of the delivery app: take ids, call a service."""

from celery import shared_task

from delivery.attempts import deliveries_attempt as attempt
from delivery.sweeper import deliveries_sweep as sweep


@shared_task(name="delivery.tasks.deliveries_attempt", acks_late=True, reject_on_worker_lost=True)
def deliveries_attempt(subscription_id: str, delivery_ids: list[str]) -> None:
    attempt(subscription_id=subscription_id, delivery_ids=delivery_ids)


@shared_task(name="delivery.tasks.deliveries_sweep")
def deliveries_sweep() -> dict[str, int]:
    return sweep()

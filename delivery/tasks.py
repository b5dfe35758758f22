"""Celery entry points of the delivery app: take ids, call a service."""

from celery import shared_task

from delivery.attempts import deliveries_attempt as attempt
from delivery.recovery import recovery_continue as recover
from delivery.retention import expired_purge
from delivery.sweeper import deliveries_sweep as sweep

# An hourly purge stops between batches after this long; the next one goes on where it stopped.
PURGE_BUDGET_SECONDS = 600


@shared_task(name="delivery.tasks.deliveries_attempt", acks_late=True, reject_on_worker_lost=True)
def deliveries_attempt(subscription_id: str, delivery_ids: list[str]) -> None:
    attempt(subscription_id=subscription_id, delivery_ids=delivery_ids)


@shared_task(name="delivery.tasks.deliveries_sweep")
def deliveries_sweep() -> dict[str, int]:
    return sweep()


@shared_task(name="delivery.tasks.expired_purge")
def expired_purge_hourly() -> dict[str, int]:
    return expired_purge(time_budget_seconds=PURGE_BUDGET_SECONDS).as_dict()


@shared_task(name="delivery.tasks.recovery_continue", acks_late=True, reject_on_worker_lost=True)
def recovery_continue(recovery_id: str) -> None:
    recover(recovery_id=recovery_id)

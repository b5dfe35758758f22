"""Celery entry points of the delivery app: take ids, call a service. Each is sent by its registered name."""

from celery import shared_task, signals

from delivery import attempts, recovery, retention, sweeper

# An hourly purge stops between batches after this long; the next one goes on where it stopped.
PURGE_BUDGET_SECONDS = 600


@signals.worker_shutting_down.connect
def _taking_on_stop(**kwargs) -> None:
    attempts.taking_on_stop()


@shared_task(name="delivery.tasks.deliveries_attempt", acks_late=True, reject_on_worker_lost=True)
def deliveries_attempt_task(subscription_id: str, delivery_ids: list[str]) -> None:
    attempts.deliveries_attempt(subscription_id=subscription_id, delivery_ids=delivery_ids)


@shared_task(name="delivery.tasks.deliveries_sweep")
def deliveries_sweep_task() -> dict[str, int]:
    return sweeper.deliveries_sweep()


@shared_task(name="delivery.tasks.expired_purge")
def expired_purge_task() -> dict[str, int]:
    return retention.expired_purge(time_budget_seconds=PURGE_BUDGET_SECONDS).as_dict()


@shared_task(name="delivery.tasks.recovery_continue", acks_late=True, reject_on_worker_lost=True)
def recovery_continue_task(recovery_id: str) -> None:
    recovery.recovery_continue(recovery_id=recovery_id)

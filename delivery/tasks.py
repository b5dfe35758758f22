"""Celery entry points of the delivery app: take ids, call a service. Each is sent by its registered name."""

import threading

from celery import shared_task, signals

from delivery import drain, recovery, retention, sweeper

# An hourly purge stops between batches after this long; the next one goes on where it stopped.
PURGE_BUDGET_SECONDS = 600

_sweeps_stopping = threading.Event()


@signals.worker_ready.connect
def _sweeps_start(**kwargs) -> None:
    """Each worker process sweeps (under the sweepers' lock, delivery/sweeper.py): no single process is needed."""
    _sweeps_stopping.clear()
    threading.Thread(
        target=sweeper.sweeps_run, kwargs={"stopping": _sweeps_stopping}, name="outflow-sweeper", daemon=True
    ).start()


@signals.worker_shutting_down.connect
def _sweeps_stop(**kwargs) -> None:
    _sweeps_stopping.set()


@shared_task(name="delivery.tasks.subscription_drain", acks_late=True, reject_on_worker_lost=True)
def subscription_drain_task(subscription_id: str) -> None:
    drain.subscription_drain(subscription_id=subscription_id)


@shared_task(name="delivery.tasks.expired_purge")
def expired_purge_task() -> dict[str, int]:
    return retention.expired_purge(time_budget_seconds=PURGE_BUDGET_SECONDS).as_dict()


@shared_task(name="delivery.tasks.recovery_continue", acks_late=True, reject_on_worker_lost=True)
def recovery_continue_task(recovery_id: str) -> None:
    recovery.recovery_continue(recovery_id=recovery_id)

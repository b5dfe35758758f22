"""Celery entry points of the notifications app: take ids, call a service."""

from celery import shared_task

from notifications.sending import notification_send as send
from notifications.sweeper import notifications_sweep as sweep


@shared_task(name="notifications.tasks.notification_send", acks_late=True, reject_on_worker_lost=True)
def notification_send(notification_id: str) -> None:
    send(notification_id=notification_id)


@shared_task(name="notifications.tasks.notifications_sweep")
def notifications_sweep() -> dict[str, int]:
    return sweep()

"""Celery entry points of the delivery app: take ids, call a service."""

from celery import shared_task

from delivery import services


@shared_task(name="delivery.tasks.delivery_attempt", acks_late=True, reject_on_worker_lost=True)
def delivery_attempt(delivery_id: str) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="delivery.tasks.deliveries_sweep")
def deliveries_sweep() -> dict[str, int]:
    return services.deliveries_sweep()

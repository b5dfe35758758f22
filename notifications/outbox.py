"""Writing notification rows (the outbox): in the caller's transaction, their tasks sent once it commits."""

from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from notifications.sending import notifications_enqueue


def notifications_write(*, environment_id, type: str, data: dict, channels: list[str]) -> list[Notification]:
    """One row per channel, due now by the database's clock (which claims read)."""
    if not channels:
        return []
    payload = {"type": type, "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data}
    notifications = Notification.objects.bulk_create(
        [
            Notification(environment_id=environment_id, channel=channel, type=type, payload=payload)
            for channel in channels
        ]
    )
    ids = [notification.pk for notification in notifications]
    transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    return notifications

"""Retention of notifications: rows older than OUTFLOW_EVENT_RETENTION_DAYS, in small batches."""

import time
from datetime import datetime

from notifications.models import Notification

BATCH = 1000


def notifications_purge(*, older_than: datetime, deadline: float | None = None, batch_size: int = BATCH) -> int:
    """Delete notifications made before a time, oldest first, each batch its own statement; how many. A pending one
    that old has long run out of tries, so none is kept for its status."""
    deleted = 0
    while deadline is None or time.monotonic() < deadline:
        ids = list(
            Notification.objects.filter(created_at__lt=older_than)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
    return deleted

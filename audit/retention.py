"""Retention of the audit log: entries older than OUTFLOW_AUDIT_LOG_RETENTION_DAYS, in small batches.

The only deletion of entries there is: on PostgreSQL the append-only trigger lets a DELETE through only in a
transaction that set `outflow.audit_retention` (below), which nothing else sets.
"""

import time
from datetime import datetime

from django.db import connection, transaction

from audit.models import AuditEntry

BATCH = 1000


def audit_entries_purge(*, older_than: datetime, deadline: float | None = None, batch_size: int = BATCH) -> int:
    """Delete entries made before a time, oldest first, each batch its own short transaction; how many."""
    deleted = 0
    while deadline is None or time.monotonic() < deadline:
        with transaction.atomic():
            ids = list(
                AuditEntry.objects.filter(created_at__lt=older_than)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('outflow.audit_retention', 'on', true)")
            deleted += AuditEntry.objects.filter(pk__in=ids).delete()[0]
    return deleted

"""Retention: events past OUTFLOW_EVENT_RETENTION_DAYS with their finished deliveries, notifications that old,
request log rows and audit log entries past theirs, removed in small batches, each its own short transaction (no
long lock, ingest never waits on it)."""

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.retention import audit_entries_purge
from delivery.models import Delivery, Event
from notifications.retention import notifications_purge
from requestlog.services import request_logs_purge

UNFINISHED = (Delivery.Status.PENDING, Delivery.Status.SENDING, Delivery.Status.RETRYING)
BATCH_EVENTS = 1000


@dataclass(frozen=True)
class PurgeCounts:
    events: int
    deliveries: int
    request_logs: int
    notifications: int
    audit_entries: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def expired_purge(*, now: datetime | None = None, time_budget_seconds: float | None = None) -> PurgeCounts:
    """Remove what is past its retention, oldest first; with a time budget, stop between batches once it is spent
    (the next run goes on where this one stopped)."""
    now = now or timezone.now()
    deadline = None if time_budget_seconds is None else time.monotonic() + time_budget_seconds
    events, deliveries = events_purge(
        older_than=now - timedelta(days=settings.OUTFLOW_EVENT_RETENTION_DAYS), deadline=deadline
    )
    request_logs = request_logs_purge(
        older_than=now - timedelta(days=settings.OUTFLOW_REQUEST_LOG_RETENTION_DAYS), deadline=deadline
    )
    notifications = notifications_purge(
        older_than=now - timedelta(days=settings.OUTFLOW_EVENT_RETENTION_DAYS), deadline=deadline
    )
    audit_entries = audit_entries_purge(
        older_than=now - timedelta(days=settings.OUTFLOW_AUDIT_LOG_RETENTION_DAYS), deadline=deadline
    )
    return PurgeCounts(
        events=events,
        deliveries=deliveries,
        request_logs=request_logs,
        notifications=notifications,
        audit_entries=audit_entries,
    )


def events_purge(*, older_than: datetime, deadline: float | None = None, batch_size: int = BATCH_EVENTS):
    """Delete events received before a time whose deliveries have all finished, with those deliveries; an event
    with a delivery still to go stays (with it) until that one finishes. (events, deliveries) deleted.

    It walks the events in order of arrival from the oldest (an index range scan), so each batch costs the same
    however large the tables are, and an event left behind is not read again in this run.
    """
    events = deliveries = 0
    after = None
    while deadline is None or time.monotonic() < deadline:
        window = Event.objects.filter(received_at__lt=older_than)
        if after is not None:
            window = window.filter(received_at__gte=after[0]).exclude(received_at=after[0], pk__lte=after[1])
        batch = list(window.order_by("received_at", "pk").values_list("received_at", "pk")[:batch_size])
        if not batch:
            break
        after = batch[-1]
        ids = [pk for _, pk in batch]
        kept = set(Delivery.objects.filter(event_id__in=ids, status__in=UNFINISHED).values_list("event_id", flat=True))
        with transaction.atomic():
            deleted_deliveries, deleted_events = _batch_delete([pk for pk in ids if pk not in kept])
        events += deleted_events
        deliveries += deleted_deliveries
    return events, deliveries


def _batch_delete(ids: list) -> tuple[int, int]:
    """Delete these events' finished deliveries, then the events none remain for. The statements check the status
    again, so a delivery recovered meanwhile (made pending) keeps itself and its event."""
    if not ids:
        return 0, 0
    prepared = [Event._meta.pk.get_db_prep_value(pk, connection) for pk in ids]
    placeholders = ", ".join(["%s"] * len(prepared))
    events, deliveries = Event._meta.db_table, Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {deliveries} WHERE event_id IN ({placeholders})"
            f" AND status NOT IN ({', '.join(['%s'] * len(UNFINISHED))})",
            [*prepared, *UNFINISHED],
        )
        deleted_deliveries = cursor.rowcount
        # Raw SQL: the ORM's delete would first load each event (payloads of up to 256 KiB) to cascade.
        cursor.execute(
            f"DELETE FROM {events} WHERE id IN ({placeholders})"
            f" AND NOT EXISTS (SELECT 1 FROM {deliveries} d WHERE d.event_id = {events}.id)",
            prepared,
        )
        return deleted_deliveries, cursor.rowcount

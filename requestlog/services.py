"""Recording attempts in the request log, redacted before they are stored."""

import uuid
from datetime import datetime

from django.db import connection, models
from psycopg.types.json import Jsonb

from outbound.masking import masked_headers, masked_url
from requestlog.models import RequestLog
from requestlog.redaction import stored_body


def request_log_entry(
    *,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID | None,
    attempt: int,
    is_test: bool,
    method: str,
    url: str,
    request_headers: dict[str, str],
    request_body: bytes,
    response_status: int | None,
    response_headers: dict[str, str],
    response_body: bytes,
    response_body_size: int,
    duration_ms: int,
    error: str | None,
) -> RequestLog:
    """One attempt's row, not yet stored; bodies are kept only for tests, secrets are masked always."""
    return RequestLog(
        subscription_id=subscription_id,
        delivery_id=delivery_id,
        attempt=attempt,
        is_test=is_test,
        method=method,
        url=masked_url(url),
        request_headers=masked_headers(request_headers),
        request_body=stored_body(request_body, keep=is_test),
        request_body_size=len(request_body),
        response_status=response_status,
        response_headers=masked_headers(response_headers),
        response_body=stored_body(response_body, keep=is_test),
        response_body_size=response_body_size,
        duration_ms=duration_ms,
        error=error or "",
    )


def request_logs_store(*, entries: list[RequestLog]) -> None:
    """Store rows made by request_log_entry in one statement (on PostgreSQL a COPY); their ids are not read back."""
    if not entries:
        return
    if connection.vendor != "postgresql":
        RequestLog.objects.bulk_create(entries)
        return
    # COPY skips the per-value quoting of an INSERT: the request log is written for every attempt.
    fields = [field for field in RequestLog._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {RequestLog._meta.db_table} ({columns}) FROM STDIN") as copy:
        for entry in entries:
            copy.write_row([_copy_value(field, field.pre_save(entry, True)) for field in fields])


def _copy_value(field: models.Field, value):
    return Jsonb(value) if isinstance(field, models.JSONField) else value


def request_logs_purge(*, older_than: datetime, batch_size: int = 5000) -> int:
    """Delete rows older than a time, in batches so no long lock is held; returns how many went."""
    purged = 0
    while True:
        ids = list(RequestLog.objects.filter(created_at__lt=older_than).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        purged += RequestLog.objects.filter(pk__in=ids).delete()[0]

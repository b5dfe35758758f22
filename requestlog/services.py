"""Recording attempts in the request log, redacted before they are stored."""

import time
import uuid
from datetime import datetime
from typing import NamedTuple

from django.utils import timezone

from config.copy_insert import copy_rows
from outbound.masking import masked_headers, masked_url
from requestlog.models import RequestLog
from requestlog.redaction import stored_body


class RequestLogRow(NamedTuple):
    """A request log row not yet stored, as its columns' values."""

    subscription_id: uuid.UUID
    delivery_id: uuid.UUID | None
    attempt: int
    is_test: bool
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    request_body_size: int
    response_status: int | None
    response_headers: dict[str, str]
    response_body: str
    response_body_size: int
    duration_ms: int
    error: str
    created_at: datetime


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
) -> RequestLogRow:
    """One attempt's row, not yet stored; bodies are kept only for tests, secrets are masked always."""
    return RequestLogRow(
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
        created_at=timezone.now(),
    )


def request_logs_store(*, entries: list[RequestLogRow]) -> None:
    """Store rows made by request_log_entry in one statement; their ids are not read back."""
    copy_rows(RequestLog, entries)


def request_log_save(*, entry: RequestLogRow) -> RequestLog:
    """Store one row made by request_log_entry, read back as the request log shows it (Send test's answer)."""
    return RequestLog.objects.create(**entry._asdict())


def request_logs_purge(*, older_than: datetime, deadline: float | None = None, batch_size: int = 5000) -> int:
    """Delete rows older than a time, in batches so no long lock is held, until none are left or the monotonic
    deadline passes; returns how many went."""
    purged = 0
    while deadline is None or time.monotonic() < deadline:
        ids = list(RequestLog.objects.filter(created_at__lt=older_than).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        purged += RequestLog.objects.filter(pk__in=ids).delete()[0]
    return purged

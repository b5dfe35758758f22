"""Collects what the suite produces (API responses, log records, request log rows) to search it for secrets."""

import json
import logging
from pathlib import Path

from rest_framework.test import APIClient

PRODUCED: dict[str, list[str]] = {
    "api responses": [],
    "log records": [],
    "request log rows": [],
    "audit log entries": [],
}
_LOG_DIRECTORIES: list[Path] = []


def watch_logs_in(directory: Path) -> None:
    """Also search the *.log files of this directory (the worker's and beat's)."""
    _LOG_DIRECTORIES.append(directory)


def process_logs() -> list[Path]:
    return [path for directory in _LOG_DIRECTORIES for path in directory.glob("*.log")]


class _Records(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        PRODUCED["log records"].append(text)


def start() -> None:
    """Record every APIClient response and every log record of this process from now on."""
    logging.getLogger().addHandler(_Records(level=logging.DEBUG))
    original = APIClient.request

    def request(self, **kwargs):
        response = original(self, **kwargs)
        PRODUCED["api responses"].append(response.content.decode("utf-8", errors="replace"))
        return response

    APIClient.request = request


def record_request_log() -> None:
    """Copy the request log rows visible now (called before a test's database is torn down)."""
    from requestlog.models import RequestLog

    for row in RequestLog.objects.values():
        PRODUCED["request log rows"].append(json.dumps(row, default=str))


def record_audit_log() -> None:
    """Copy the audit log entries visible now, as record_request_log does the request log."""
    from audit.models import AuditEntry

    for row in AuditEntry.objects.values():
        PRODUCED["audit log entries"].append(json.dumps(row, default=str))

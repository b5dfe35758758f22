"""The database's clock in the batch's raw SQL: leases and due times of every host are read from this one clock."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime


@dataclass(frozen=True, slots=True)
class DatabaseNow:
    """A column's new value: the database's time at the statement, plus some seconds."""

    plus_seconds: float = 0.0


def now_sql(*, plus_seconds: float = 0.0) -> tuple[str, list]:
    """SQL for the database's time at this statement plus some seconds, and its parameters."""
    if connection.vendor == "sqlite":
        # Django's own date arithmetic on SQLite (what F() + timedelta compiles to) writes a time as Django stores
        # one, so a lease read back compares equal to the row's; 'now' stays the same through one statement.
        return "django_format_dtdelta('+', STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW'), %s)", [
            round(plus_seconds * 1_000_000)
        ]
    # As Django's Now(): now() would be the transaction's start, clock_timestamp() would differ row by row.
    return "(STATEMENT_TIMESTAMP() + %s * INTERVAL '1 second')", [plus_seconds]


def database_now() -> datetime:
    """The database's time now: what a row written in Python stamps, where the claim and the sweeper compare it."""
    sql, params = now_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return datetime_read(cursor.fetchone()[0])


def datetime_read(value) -> datetime | None:
    """A time that raw SQL read back: a datetime, or text (PostgreSQL's with its offset, or SQLite's as Django
    stores it, in UTC)."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        return parsed if parsed.tzinfo is not None else timezone.make_aware(parsed, UTC)
    return value

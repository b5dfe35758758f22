"""config/postgresql/base.py: a bounded wait closes the connection and raises OperationalError; a long COPY, many
short waits, is not cut; the serving processes' connections carry the statement_timeout; no connection compiles JIT."""

import time

import psycopg
import pytest
from django.db import connection

from config.postgresql import base


def _connect(answer_timeout: float) -> base.DeadlineConnection:
    opened = base.DeadlineConnection.connect(**connection.get_connection_params(), autocommit=True)
    opened.answer_timeout = answer_timeout
    return opened


@pytest.mark.django_db
def test_a_wait_past_the_answer_timeout_closes_the_connection_and_raises_operational_error():
    opened = _connect(0.5)
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="did not answer within 0.5 s"):
        opened.execute("SELECT pg_sleep(3)")
    assert time.monotonic() - started < 2
    assert opened.closed


@pytest.mark.django_db
def test_a_copy_longer_than_the_answer_timeout_is_not_cut():
    opened = _connect(0.5)
    try:
        opened.execute("CREATE TEMPORARY TABLE copied (n integer, padding text)")
        started = time.monotonic()
        with opened.cursor() as cursor, cursor.copy("COPY copied (n, padding) FROM STDIN") as copy:
            for n in range(20):
                copy.write_row((n, "x" * 100_000))  # enough to be sent as it goes
                time.sleep(0.1)
        assert time.monotonic() - started > 1.5
        assert opened.execute("SELECT count(*) FROM copied").fetchone() == (20,)
    finally:
        opened.close()


@pytest.mark.django_db
def test_a_serving_process_connections_carry_the_statement_timeout(monkeypatch, settings):
    settings.DATABASE_STATEMENT_TIMEOUT_SECONDS = 7.5
    assert "statement_timeout" not in connection.get_connection_params().get("options", "")
    monkeypatch.setattr(base, "_answer_timeout", None)
    base.waits_bound(answer_timeout=5.0)
    opened = connection.Database.connect(**connection.get_connection_params())
    try:
        assert opened.answer_timeout == 5.0
        assert opened.execute("SHOW statement_timeout").fetchone() == ("7500ms",)
    finally:
        opened.close()


@pytest.mark.django_db
def test_connections_compile_no_jit():
    opened = connection.Database.connect(**connection.get_connection_params())
    try:
        assert opened.execute("SHOW jit").fetchone() == ("off",)
    finally:
        opened.close()
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)

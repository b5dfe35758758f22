"""Django's PostgreSQL backend, with every wait on the server bounded in the processes that serve (web, worker, beat).

A server that stops answering (frozen, or a partition that leaves the port open) otherwise holds a request or a task
for as long as it lasts: the kernel still acknowledges what is sent, so neither TCP keepalives nor libpq's
tcp_user_timeout notice, and libpq has no query timeout of its own. Once `waits_bound(answer_timeout=...)` is called
(by config/gunicorn.py in each web worker and config/celery.py in worker and beat, each with its setting):
- each wait for the server (a statement's answer, one chunk of a COPY) lasts at most `answer_timeout`; past it the
  connection is closed and OperationalError raised (the API's 503 `unavailable`). A long COPY is many waits, each
  short while the server reads;
- the health check of a kept connection (`SELECT 1`) waits DATABASE_HEALTH_CHECK_TIMEOUT_SECONDS at most, so a
  request on a kept connection meets a frozen server little later than a new one would (the connect timeout);
- each new connection has DATABASE_STATEMENT_TIMEOUT_SECONDS as statement_timeout, which bounds what the server goes
  on doing for a client that gave up.
Commands an operator runs (migrate, purge_expired, shell) do not call it: a migration may run as long as it takes.

Every connection turns PostgreSQL's JIT compilation off: Outflow's statements are short, and the planner's estimate
of one, summed over millions of rows, can pass jit_above_cost while the statement itself takes milliseconds (the
Workbench's subscriptions list: 300 ms compiling a 2 ms query beside ten million request log rows, docs/WORKBENCH.md).
"""

import types

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base

_answer_timeout: float | None = None


def waits_bound(*, answer_timeout: float) -> None:
    """From here on, this process's new database connections bound their waits (see the module's docstring)."""
    global _answer_timeout
    _answer_timeout = answer_timeout


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection that waits at most `answer_timeout` seconds for each exchange with the server."""

    answer_timeout: float | None = None

    def wait(self, gen, *args, timeout=None, **kwargs):
        bounded = timeout is None and self.answer_timeout is not None
        try:
            return super().wait(gen, *args, timeout=self.answer_timeout if bounded else timeout, **kwargs)
        except psycopg.errors._WaitTimeout:
            if not bounded:
                raise
            # The exchange stopped half-way: the connection's state is unknown, so it is not used again.
            self.close()
            raise psycopg.OperationalError(f"the database did not answer within {self.answer_timeout:g} s") from None


def _connect(*args, **kwargs) -> psycopg.Connection:
    connection = DeadlineConnection.connect(*args, **kwargs)
    connection.answer_timeout = _answer_timeout
    return connection


class DatabaseWrapper(base.DatabaseWrapper):
    # psycopg as Django's backend uses it (its connect() and the PEP 249 exceptions), connecting DeadlineConnections.
    Database = types.SimpleNamespace(
        **{**{name: getattr(psycopg, name) for name in psycopg.__all__}, "connect": _connect}
    )

    def get_connection_params(self):
        params = super().get_connection_params()
        options = [params["options"]] if params.get("options") else []
        options.append("-c jit=off")
        if _answer_timeout is not None:
            options.append(f"-c statement_timeout={round(settings.DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000)}")
        params["options"] = " ".join(options)
        return params

    def is_usable(self):
        connection = self.connection
        if not isinstance(connection, DeadlineConnection) or connection.answer_timeout is None:
            return super().is_usable()
        connection.answer_timeout, usual = settings.DATABASE_HEALTH_CHECK_TIMEOUT_SECONDS, connection.answer_timeout
        try:
            return super().is_usable()
        finally:
            connection.answer_timeout = usual

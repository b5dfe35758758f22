"""Django's PostgreSQL backend, with every wait on the server bounded in the processes that serve (web, worker, beat).

A server that stops answering (frozen, or a partition that leaves the port open) otherwise holds a request or a task
for as long as it lasts: the kernel still acknowledges what is sent, so neither TCP keepalives nor libpq's
tcp_user_timeout notice, and libpq has no query timeout of its own. Once `waits_bound(statement_timeout)` is called
(by config/wsgi.py and config/celery.py, each with its setting):
- each new connection asks the server to cancel its statements after `statement_timeout` seconds: a statement that
  is only slow fails cleanly (QueryCanceled, an OperationalError) and the connection stays usable;
- the client gives up one second after that on a server that does not answer at all, closes the connection and
  raises OperationalError (the API's 503 `unavailable`);
- the health check of a kept connection (`SELECT 1`) waits DATABASE_HEALTH_CHECK_TIMEOUT_SECONDS at most, so a request
  on a kept connection meets a frozen server no later than a new connection would (DATABASE_CONNECT_TIMEOUT_SECONDS).
Commands an operator runs (migrate, purge_expired, shell) do not call it: a migration may run as long as it takes.
"""

import types

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base

# The grace a server gets past its own statement_timeout before the client takes it for gone.
_ANSWER_GRACE_SECONDS = 1.0
_statement_timeout: float | None = None


def waits_bound(statement_timeout: float) -> None:
    """From here on, this process's new database connections bound their waits (see the module's docstring)."""
    global _statement_timeout
    _statement_timeout = statement_timeout


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
    if _statement_timeout is not None:
        connection.answer_timeout = _statement_timeout + _ANSWER_GRACE_SECONDS
    return connection


class DatabaseWrapper(base.DatabaseWrapper):
    # psycopg as Django's backend uses it (its connect() and the PEP 249 exceptions), connecting DeadlineConnections.
    Database = types.SimpleNamespace(
        **{**{name: getattr(psycopg, name) for name in psycopg.__all__}, "connect": _connect}
    )

    def get_connection_params(self):
        params = super().get_connection_params()
        if _statement_timeout is not None:
            timeout = f"-c statement_timeout={round(_statement_timeout * 1000)}"
            params["options"] = f"{params['options']} {timeout}" if params.get("options") else timeout
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

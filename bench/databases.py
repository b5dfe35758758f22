"""The bench's PostgreSQL databases and Redis queues: (re)creation, and the read-only counts a run polls.

Queries name Django's default tables (delivery_delivery, delivery_event, requestlog_requestlog and
django-webhook's django_webhook_webhookevent); the harness reads them, only Outflow and the peer write them.
"""

import subprocess
from pathlib import Path

import kombu
import psycopg
import redis

from bench.environment import POSTGRES

POSTGRES_ARGS = ["-h", POSTGRES["host"], "-p", str(POSTGRES["port"]), "-U", POSTGRES["user"]]


def _postgres_command(*argv: str) -> None:
    completed = subprocess.run([*argv[:1], *POSTGRES_ARGS, *argv[1:]], capture_output=True, text=True, timeout=60)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {completed.stderr.strip()}")


def database_drop(name: str) -> None:
    _postgres_command("dropdb", "--if-exists", "--force", name)


def database_recreate(name: str) -> None:
    database_drop(name)
    _postgres_command("createdb", name)


def redis_flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushdb()


def redis_commands(url: str) -> int:
    """Commands the Redis server has processed so far (all its databases: other clients on it count too)."""
    with redis.Redis.from_url(url) as client:
        return client.info("stats")["total_commands_processed"]


def redis_server_pid(url: str) -> int:
    with redis.Redis.from_url(url) as client:
        return client.info("server")["process_id"]


def queue_purge(*, broker_url: str, queue: str) -> None:
    """Drop the tasks still waiting in the broker (those a worker already holds run and find nothing to do)."""
    with kombu.Connection(broker_url) as connection:
        connection.default_channel.queue_purge(queue)


def _connect(name: str) -> psycopg.Connection:
    return psycopg.connect(dbname=name, autocommit=True, **POSTGRES)


class OutflowDatabase:
    def __init__(self, name: str):
        self._connection = _connect(name)

    def _one(self, sql: str, params=()):
        return self._connection.execute(sql, params).fetchone()

    def succeeded(self, subscription_ids: list[str]) -> tuple[int, float | None]:
        """How many deliveries of these subscriptions succeeded, and when the last one was recorded (unix time)."""
        count, last = self._one(
            "SELECT count(*), extract(epoch FROM max(completed_at)) FROM delivery_delivery"
            " WHERE status = 'succeeded' AND subscription_id = ANY(%s::uuid[])",
            (subscription_ids,),
        )
        return count, float(last) if last is not None else None

    def sent_at_by_delivery(self, subscription_ids: list[str]) -> dict[str, float]:
        """The ingest send time each delivery's event carries, by delivery id (the webhook-id header)."""
        rows = self._connection.execute(
            "SELECT d.id::text, (e.payload->>'sentAt')::float FROM delivery_delivery d"
            " JOIN delivery_event e ON e.id = d.event_id WHERE d.subscription_id = ANY(%s::uuid[])",
            (subscription_ids,),
        )
        return dict(rows.fetchall())

    def failed_deliveries_insert(self, *, subscription_id: str, count: int) -> None:
        """`count` failed deliveries an hour old for the subscription, of events already stored (bench.hot_paths)."""
        self._connection.execute(
            "INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, last_error,"
            " last_status_code, created_at, updated_at, completed_at) SELECT gen_random_uuid(), e.id, %s, 'failed', 1,"
            " 'endpoint answered 503', 503, now() - interval '1 hour', now() - interval '1 hour',"
            " now() - interval '1 hour' FROM (SELECT id FROM delivery_event LIMIT %s) e",
            (subscription_id, count),
        )

    def recovery_progress(self, subscription_id: str) -> dict:
        """The subscription's latest recovery: deliveries made pending so far, and whether (and how fast) it ended."""
        row = self._one(
            "SELECT recovered, finished_at IS NOT NULL, extract(epoch FROM finished_at - requested_at)"
            " FROM delivery_recovery WHERE subscription_id = %s ORDER BY requested_at DESC LIMIT 1",
            (subscription_id,),
        )
        if row is None:
            return {"recovered": 0, "finished": False, "seconds": None}
        recovered, finished, seconds = row
        return {"recovered": recovered, "finished": finished, "seconds": float(seconds) if seconds else None}

    def activity(self) -> dict[str, int]:
        """PostgreSQL's running totals for this database: transactions committed and rows written."""
        commits, inserted, updated, deleted = self._one(
            "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
        return {"commits": commits, "inserted": inserted, "updated": updated, "deleted": deleted}

    def server_pid(self) -> int:
        """The PostgreSQL server's main process (the parent of this connection's backend): its tree is every backend,
        and its reaped children's CPU time is added to it."""
        (backend,) = self._one("SELECT pg_backend_pid()")
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])

    def clear_events(self) -> None:
        """Start a run on empty tables: events, deliveries and request logs (CASCADE: whatever refers to them)."""
        self._connection.execute("SET lock_timeout = '30s'")
        self._connection.execute(
            "TRUNCATE delivery_delivery, delivery_event, requestlog_requestlog, delivery_recovery CASCADE"
        )

    def close(self) -> None:
        self._connection.close()


class PeerDatabase:
    def __init__(self, name: str):
        self._connection = _connect(name)

    def succeeded(self) -> int:
        return self._connection.execute(
            "SELECT count(*) FROM django_webhook_webhookevent WHERE status = 'SUCCESS'"
        ).fetchone()[0]

    def close(self) -> None:
        self._connection.close()

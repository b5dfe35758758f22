"""Retention at scale: Outflow's batched purge against dropping daily partitions, on N synthetic events and deliveries.

`python -m bench.retention_layouts --rows 10000000` makes a scratch database, fills Outflow's own tables (migrated)
with N finished deliveries of N events spread over 31 days (COPY-free: INSERT ... SELECT generate_series), and
builds the same rows in tables partitioned by day. It then removes the oldest day both ways, while a thread ingests
one event at a time (through `events_ingest` on Outflow's tables, an equal INSERT on the partitioned ones), and
prints one JSON line: rows removed per second and the ingest latency before and during each.
"""

import argparse
import json
import os
import statistics
import threading
import time
from datetime import timedelta

from bench.databases import database_drop, database_recreate
from bench.environment import POSTGRES

DATABASE = "outflow_bench_retention"
DAYS = 31


def _configure() -> None:
    os.environ["DATABASE_URL"] = f"postgres://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def secondary_indexes(cursor, tables: tuple[str, ...]) -> list[tuple[str, str, str, bool]]:
    """(table, name, definition, is a unique constraint) of each index on the tables but their primary keys."""
    cursor.execute(
        "SELECT i.tablename, i.indexname, i.indexdef, c.contype = 'u' FROM pg_indexes i"
        " LEFT JOIN pg_constraint c ON c.conname = i.indexname"
        " WHERE i.tablename = ANY(%s) AND (c.contype IS NULL OR c.contype <> 'p')",
        [list(tables)],
    )
    return [(table, name, definition, bool(unique)) for table, name, definition, unique in cursor.fetchall()]


def outflow_tables_fill(cursor, rows: int, environment_id, subscription_id, *, event_id_prefix: str = "evt_") -> None:
    """N events (ids `event_id_prefix` + n) over DAYS days up to now, one succeeded delivery each; events already
    in the tables (and their deliveries) are left as they are."""
    # Indexes built once after the rows are in take minutes less than ten million random-UUID inserts into them.
    indexes = secondary_indexes(cursor, ("delivery_event", "delivery_delivery"))
    # A deferred foreign key queues one check per inserted row until commit; one validation afterwards is cheaper.
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'delivery_delivery'::regclass AND contype = 'f'"
    )
    foreign_keys = cursor.fetchall()
    for name, _ in foreign_keys:
        cursor.execute(f"ALTER TABLE delivery_delivery DROP CONSTRAINT {name}")
    for table, name, _, unique in indexes:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}" if unique else f"DROP INDEX {name}")
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute(
        "INSERT INTO delivery_event (id, environment_id, event_id, name, card, is_test, payload, received_at)"
        " SELECT gen_random_uuid(), %s, %s || n, 'card-completed', NULL, false,"
        " jsonb_build_object('id', %s || n, 'eventName', 'card-completed', 'endUserId', 'user-' || (n %% 1000)),"
        " now() - (%s * interval '1 day') * n / %s FROM generate_series(1, %s) AS n",
        [environment_id, event_id_prefix, event_id_prefix, DAYS, rows, rows],
    )
    cursor.execute(
        "INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, last_error,"
        " created_at, updated_at, completed_at) SELECT gen_random_uuid(), e.id, %s, 'succeeded', 1, '',"
        " e.received_at, e.received_at, e.received_at FROM delivery_event e WHERE starts_with(e.event_id, %s)",
        [subscription_id, event_id_prefix],
    )
    for table, name, definition, unique in indexes:
        columns = definition[definition.index("(") :]
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE {columns}" if unique else definition)
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE delivery_delivery ADD CONSTRAINT {name} {definition}")
    cursor.execute("ANALYZE delivery_event; ANALYZE delivery_delivery")


def _fill_partitioned(cursor) -> None:
    cursor.execute(
        "CREATE TABLE part_event (id uuid NOT NULL, environment_id uuid NOT NULL, event_id varchar(128) NOT NULL,"
        " payload jsonb NOT NULL, received_at timestamptz NOT NULL, PRIMARY KEY (id, received_at),"
        # Uniqueness must include the partition key: an event id would be unique per day only, not per period.
        " UNIQUE (environment_id, event_id, received_at)) PARTITION BY RANGE (received_at);"
        "CREATE TABLE part_delivery (id uuid NOT NULL, event_id uuid NOT NULL, status varchar(10) NOT NULL,"
        " created_at timestamptz NOT NULL, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);"
        "CREATE INDEX ON part_delivery (event_id);"
    )
    for day in range(DAYS + 2):
        for table in ("part_event", "part_delivery"):
            cursor.execute(
                f"CREATE TABLE {table}_{day} PARTITION OF {table} FOR VALUES FROM"
                f" (date_trunc('day', now()) - interval '{day} day') TO"
                f" (date_trunc('day', now()) - interval '{day - 1} day')"
            )
    cursor.execute(
        "INSERT INTO part_event SELECT id, environment_id, event_id, payload, received_at FROM delivery_event;"
        "INSERT INTO part_delivery SELECT id, event_id, status, created_at FROM delivery_delivery;"
        "ANALYZE part_event; ANALYZE part_delivery"
    )


class IngestProbe:
    """Ingests one event at a time in a thread, recording each call's latency, until stopped."""

    def __init__(self, ingest_one) -> None:
        self.latencies: list[float] = []
        self._ingest_one = ingest_one
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        from django.db import connection

        sequence = 0
        while not self._stopped.is_set():
            sequence += 1
            started = time.perf_counter()
            self._ingest_one(sequence)
            self.latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
        connection.close()

    def summary(self) -> dict:
        if not self.latencies:
            return {"calls": 0}
        ordered = sorted(self.latencies)
        return {
            "calls": len(ordered),
            "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[int(len(ordered) * 0.95) - 1],
            "max_ms": ordered[-1],
        }


def _probe_for(ingest_one, seconds: float) -> dict:
    with IngestProbe(ingest_one) as probe:
        time.sleep(seconds)
    return probe.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    database_recreate(DATABASE)
    try:
        _configure()
        print(json.dumps(measure(arguments.rows, arguments.baseline_seconds)))
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(DATABASE)


def measure(rows: int, baseline_seconds: float) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from delivery.ingest import events_ingest
    from delivery.retention import events_purge
    from subscriptions.models import EventType
    from subscriptions.services import subscription_create
    from tenancy.services import environment_create

    call_command("migrate", verbosity=0)
    EventType.objects.get_or_create(name="card-completed")
    from tenancy.actors import SYSTEM, actor_set

    actor_set(SYSTEM)  # the audit log names who changes configuration: here, Outflow itself
    environment, _ = environment_create(name="retention")
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    started = time.monotonic()
    with connection.cursor() as cursor:
        outflow_tables_fill(cursor, rows, environment.pk, subscription.pk)
        filled = time.monotonic()
        _fill_partitioned(cursor)
    fill_seconds = {"outflow": filled - started, "partitioned": time.monotonic() - filled}
    oldest_day = timezone.now() - timedelta(days=DAYS - 1)

    def outflow_ingest(sequence: int) -> None:
        event = {"id": f"probe_{sequence}", "eventName": "card-completed", "timestamp": "2026-12-01T10:00:00Z"}
        events_ingest(environment=environment, raw_events=[event])

    def partitioned_ingest(sequence: int) -> None:
        from django.db import connection as thread_connection

        with thread_connection.cursor() as cursor:
            cursor.execute(
                "WITH e AS (INSERT INTO part_event VALUES (gen_random_uuid(), %s, %s, '{}', now()) RETURNING id)"
                " INSERT INTO part_delivery SELECT gen_random_uuid(), id, 'pending', now() FROM e",
                [environment.pk, f"probe_{sequence}"],
            )

    result = {"rows": rows, "days": DAYS, "fill_seconds": fill_seconds}
    result["batched_baseline"] = _probe_for(outflow_ingest, baseline_seconds)
    with IngestProbe(outflow_ingest) as probe:
        purge_started = time.monotonic()
        events, deliveries = events_purge(older_than=oldest_day)
        purge_seconds = time.monotonic() - purge_started
    result["batched"] = {
        "events": events,
        "deliveries": deliveries,
        "seconds": purge_seconds,
        "rows_per_second": (events + deliveries) / purge_seconds if purge_seconds else None,
        "ingest_during": probe.summary(),
    }
    result["partitioned_baseline"] = _probe_for(partitioned_ingest, baseline_seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM part_event WHERE received_at < date_trunc('day', now()) - %s * interval '1 day'",
            [DAYS - 1],
        )
        (dropped_events,) = cursor.fetchone()
        with IngestProbe(partitioned_ingest) as probe:
            drop_started = time.monotonic()
            for table in ("part_delivery", "part_event"):
                for day in (DAYS, DAYS + 1):
                    cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {table}_{day}; DROP TABLE {table}_{day}")
            drop_seconds = time.monotonic() - drop_started
    result["partitioned"] = {
        "events": dropped_events,
        "seconds": drop_seconds,
        "rows_per_second": 2 * dropped_events / drop_seconds if drop_seconds else None,
        "ingest_during": probe.summary(),
    }
    return result


if __name__ == "__main__":
    main()

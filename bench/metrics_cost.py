"""What one /metrics scrape costs on an empty deliveries table and on ROWS deliveries, next to the GROUP BY it replaced.

Runs on a throwaway PostgreSQL cluster (tests/throwaway_servers.py), never a shared one:
`python -m bench.metrics_cost 10000000` (10 M rows take ~7 minutes to insert on 2 cores and ~4 GB of disk).
Deliveries are 90% succeeded, 5% failed, 3% retrying (due in an hour), 1% pending (due), 1% skipped.
"""

import os
import statistics
import subprocess
import sys
import time

from tests.throwaway_servers import ThrowawayPostgres

SCRAPES = 15
_INSERT = """
INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, next_attempt_at, last_error,
                               created_at, updated_at)
SELECT gen_random_uuid(), %s, %s,
       CASE WHEN g %% 100 < 90 THEN 'succeeded' WHEN g %% 100 < 95 THEN 'failed' WHEN g %% 100 < 98 THEN 'retrying'
            WHEN g %% 100 < 99 THEN 'pending' ELSE 'skipped' END,
       1,
       CASE WHEN g %% 100 BETWEEN 95 AND 97 THEN now() + interval '1 hour'
            WHEN g %% 100 = 98 THEN now() - interval '1 minute' END,
       '', now() - (g || ' seconds')::interval, now()
FROM generate_series(1, %s) g
"""


def _median_ms(call, times: int) -> float:
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        taken.append((time.perf_counter() - started) * 1000)
    return statistics.median(taken)


def main(rows: int) -> None:
    postgres = ThrowawayPostgres()
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=postgres.url,
            CACHE_URL="locmemcache://",
            CELERY_BROKER_URL="memory://",
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True)
        import django

        django.setup()
        from django.db import connection
        from django.test import Client

        from delivery.models import Event
        from subscriptions.models import EventType
        from subscriptions.services import subscription_create
        from tenancy.services import environment_create

        EventType.objects.get_or_create(name="card-completed")
        from tenancy.actors import SYSTEM, actor_set

        actor_set(SYSTEM)  # the audit log names who changes configuration: here, Outflow itself
        environment, _ = environment_create(name="metrics")
        subscription = subscription_create(
            environment=environment, name="s", event_types=["card-completed"], url="http://127.0.0.1:9/"
        )
        client = Client()

        def report(label: str) -> None:
            scrape = _median_ms(lambda: client.get("/metrics"), SCRAPES)
            with connection.cursor() as cursor:
                grouped = _median_ms(
                    lambda: cursor.execute("SELECT status, count(id) FROM delivery_delivery GROUP BY status"), 3
                )
            print(f"{label}: /metrics {scrape:.1f} ms (median of {SCRAPES}); the old GROUP BY status {grouped:.1f} ms")

        report("empty")
        event = Event.objects.create(environment=environment, event_id="e1", name="card-completed", payload={})
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(_INSERT, [event.pk, subscription.pk, rows])
            cursor.execute("VACUUM ANALYZE delivery_delivery")
        print(f"inserted {rows} deliveries in {time.monotonic() - started:.0f} s")
        report(f"{rows} deliveries")
    finally:
        postgres.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)

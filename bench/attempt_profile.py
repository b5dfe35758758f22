"""Where a delivery's CPU goes: ingest N events, then drain their subscription in this process under cProfile.

`python -m bench.attempt_profile --events 2000` makes a scratch database (BENCH_DATABASE + "_profile"), starts the
Python receiver on loopback, and prints one JSON line: CPU ms per delivery (ingest, attempt: the drain's claims,
sends and records, delivery/drain.py, until nothing is due), PostgreSQL statements and Redis commands per batch of
OUTFLOW_DELIVERY_BATCH (counted as they are sent), the drain's time slices, and the share of the attempt's CPU spent
under each part (psycopg, kombu/Celery publishing, Redis, the HTTP client, Django's ORM, mapping, JSON).
Not part of `make bench`: profiling slows what it measures; the bench's per-delivery rows are the unprofiled view.
"""

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time
from pathlib import Path

from bench.databases import database_drop, database_recreate, queue_purge
from bench.drained import subscription_drained
from bench.environment import BROKER_URL, CACHE_URL, DATABASE, OUTFLOW_QUEUE, database_url, free_port
from bench.load import event
from bench.python_receiver import python_receiver_start, python_receiver_stop

PARTS = {
    "psycopg (PostgreSQL round trips)": ("psycopg",),
    "kombu/celery (publishing tasks)": ("kombu", "celery"),
    "redis-py (slots, wakes, circuit, broker)": ("redis",),
    "pycurl/outbound (HTTP)": ("pycurl", "outbound/"),
    "Django ORM and SQL compiling": ("django/db/models", "django/db/backends"),
    "mapping and JSON": ("mapping/", "json/", "orjson"),
    "signing": ("standardwebhooks", "signing", "hmac"),
}


def _counting(module, name: str, counter: dict, key: str) -> None:
    original = getattr(module, name)

    def counted(*args, **kwargs):
        counter[key] += 1
        return original(*args, **kwargs)

    setattr(module, name, counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    arguments = parser.parse_args()
    name = f"{DATABASE}_profile"
    database_recreate(name)
    receiver_dir = Path(tempfile.mkdtemp(prefix="outflow-profile-"))
    receiver, receiver_base = python_receiver_start(receiver_dir, port=free_port())
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=database_url(name),
            CELERY_BROKER_URL=BROKER_URL,
            CACHE_URL=CACHE_URL,
            CONN_MAX_AGE="60",
        )
        import django

        django.setup()
        print(json.dumps(profile(events=arguments.events, url=f"{receiver_base}/profile")))
    finally:
        from django.db import connections

        connections.close_all()
        python_receiver_stop(receiver)
        queue_purge(broker_url=BROKER_URL, queue=OUTFLOW_QUEUE)
        database_drop(name)


def profile(*, events: int, url: str) -> dict:
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from delivery.ingest import events_ingest
    from delivery.models import Delivery
    from subscriptions.models import EventType
    from subscriptions.services import subscription_create
    from tenancy.services import environment_create

    call_command("migrate", verbosity=0)
    EventType.objects.get_or_create(name="card-completed")
    from tenancy.actors import SYSTEM, actor_set

    actor_set(SYSTEM)  # the audit log names who changes configuration: here, Outflow itself
    environment, _ = environment_create(name="profile")
    subscription = subscription_create(environment=environment, name="sink", event_types=["card-completed"], url=url)
    batch = settings.OUTFLOW_DELIVERY_BATCH
    raw = [event(event_id=f"profile-{n}") for n in range(events)]
    cpu = time.process_time()
    for start in range(0, events, batch):
        events_ingest(environment=environment, raw_events=raw[start : start + batch])
    ingest_cpu = time.process_time() - cpu
    ids = list(Delivery.objects.filter(subscription=subscription).order_by("created_at").values_list("pk", flat=True))
    counts = {"statements": 0, "copies": 0, "redis": 0, "redis_pipelines": 0}

    def statements(execute, sql, params, many, context):
        counts["statements"] += 1
        return execute(sql, params, many, context)

    _counting(redis.Redis, "execute_command", counts, "redis")
    _counting(redis.client.Pipeline, "execute", counts, "redis_pipelines")
    import psycopg

    _counting(psycopg.Cursor, "copy", counts, "copies")
    # CPU time, not wall time: waiting on the receiver or PostgreSQL is not this process's cost.
    profiler = cProfile.Profile(time.process_time)
    cpu = time.process_time()
    with connection.execute_wrapper(statements):
        profiler.enable()
        slices = subscription_drained(subscription_id=subscription.pk)
        profiler.disable()
    attempt_cpu = time.process_time() - cpu
    succeeded = Delivery.objects.filter(subscription=subscription, status=Delivery.Status.SUCCEEDED).count()
    batches = -(-len(ids) // batch)
    stats = pstats.Stats(profiler)
    total = sum(timing[2] for timing in stats.stats.values())  # own time of every function: the whole
    shares = dict.fromkeys(PARTS, 0.0)
    for (filename, _, function), timing in stats.stats.items():
        for part, markers in PARTS.items():
            # A built-in's file is "~"; its name says whose it is ("<method 'perform' of 'pycurl.Curl' objects>").
            if any(marker in filename or marker in function for marker in markers):
                shares[part] += timing[2]
                break
    return {
        "deliveries": len(ids),
        "succeeded": succeeded,
        "batch": batch,
        "drain_slices": slices,
        "ingest_cpu_ms_per_event": ingest_cpu * 1000 / events,
        "attempt_cpu_ms_per_delivery": attempt_cpu * 1000 / len(ids),
        "per_batch": {
            "sql_statements": counts["statements"] / batches,
            "copy_statements": counts["copies"] / batches,
            "redis_commands": counts["redis"] / batches,
            "redis_pipelines": counts["redis_pipelines"] / batches,
        },
        "attempt_cpu_share": {part: round(own / total, 3) for part, own in shares.items()},
        "attempt_cpu_share_rest": round(1 - sum(shares.values()) / total, 3),
        "top_own_time": [
            f"{Path(filename).name}:{line} {function} {timing[2] / total:.1%}"
            for (filename, line, function), timing in sorted(stats.stats.items(), key=lambda item: -item[1][2])[:15]
        ],
    }


if __name__ == "__main__":
    main()

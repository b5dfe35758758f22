"""The rate limiter's cost per delivery, as ratios against baselines measured in the same run.

- permit: one `rate_permit_take` (the Lua script, one round trip) against one plain cache GET of the same Redis;
- attempt: a batch drained in this process (the drain's claim, send to a loopback receiver, log, record), per delivery,
  for a subscription with a rate limit it never reaches (10,000/s) against one with none, interleaved run by run.

Standalone: `.venv/bin/python -m bench.limiter_cost [--database NAME] [--cache-url URL] [--runs N]`; it makes (and
drops) its own PostgreSQL database and uses one Redis database (flushed at both ends). Prints one JSON object.
"""

import argparse
import itertools
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.databases import database_drop, database_recreate, redis_flush
from bench.environment import REDIS, database_url, free_port, outflow_environment
from bench.load import event
from bench.python_receiver import python_receiver_start, python_receiver_stop

PERMIT_CALLS = 2000
PERMIT_SUBSCRIPTIONS = 20
RATE_LIMIT = 10000


def _median_us(call, *, calls: int) -> float:
    """The median of 20 chunks' mean time per call, in microseconds."""
    chunk = max(1, calls // 20)
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        for _ in range(chunk):
            call()
        samples.append((time.perf_counter() - started) / chunk * 1e6)
    return statistics.median(samples)


def _permit_cost() -> dict:
    from django.core.cache import cache

    from delivery.rate_limit import rate_permit_take

    # Spread over subscriptions so that no permit is refused: each gets far fewer than its limit per window.
    subscriptions = itertools.cycle([uuid.uuid4() for _ in range(PERMIT_SUBSCRIPTIONS)])
    cache.set("outflow:bench:baseline", 1)

    def permit() -> None:
        assert rate_permit_take(subscription_id=next(subscriptions), rate_limit=RATE_LIMIT) is None

    def baseline() -> None:
        cache.get("outflow:bench:baseline")

    for call in (permit, baseline):
        for _ in range(200):
            call()
    permit_us, baseline_us = [], []
    for _ in range(3):
        permit_us.append(_median_us(permit, calls=PERMIT_CALLS))
        baseline_us.append(_median_us(baseline, calls=PERMIT_CALLS))
    permit_median, baseline_median = statistics.median(permit_us), statistics.median(baseline_us)
    return {"permit_us": permit_median, "cache_get_us": baseline_median, "ratio": permit_median / baseline_median}


def _attempt_cost(*, runs: int, receiver_url: str) -> dict:
    from django.conf import settings

    from bench.drained import subscription_drained
    from delivery.ingest import events_ingest
    from delivery.models import Delivery
    from subscriptions.services import subscription_create
    from tenancy.actors import SYSTEM, actor_set
    from tenancy.services import environment_create

    actor_set(SYSTEM)  # the audit log names who changes configuration: here, Outflow itself
    environment, _ = environment_create(name="limiter-bench")
    limited = subscription_create(
        environment=environment,
        name="limited",
        event_types=["card-completed"],
        url=receiver_url,
        rate_limit=RATE_LIMIT,
    )
    unlimited = subscription_create(
        environment=environment, name="unlimited", event_types=["card-dismissed"], url=receiver_url
    )
    names = {limited.pk: "card-completed", unlimited.pk: "card-dismissed"}

    def batch_seconds(subscription, size: int) -> tuple[float, float]:
        events_ingest(
            environment=environment,
            raw_events=[
                {**event(event_id=f"bench-{uuid.uuid4().hex}"), "eventName": names[subscription.pk]}
                for _ in range(size)
            ],
        )
        ids = list(
            Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING).values_list(
                "pk", flat=True
            )
        )
        wall, cpu = time.perf_counter(), time.process_time()
        subscription_drained(subscription_id=subscription.pk)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert not Delivery.objects.filter(pk__in=ids).exclude(status=Delivery.Status.SUCCEEDED).exists()
        # Each limited batch's permits leave the window before the next run, far below the limit anyway.
        return wall / size * 1000, cpu / size * 1000

    figures = {}
    for size in (settings.OUTFLOW_DELIVERY_BATCH, 1):
        samples = {True: [], False: []}
        for subscription in (limited, unlimited):
            batch_seconds(subscription, size)
        for run in range(runs):
            order = (limited, unlimited) if run % 2 == 0 else (unlimited, limited)
            for subscription in order:
                samples[subscription.pk == limited.pk].append(batch_seconds(subscription, size))
        limited_ms = statistics.median(wall for wall, _ in samples[True])
        unlimited_ms = statistics.median(wall for wall, _ in samples[False])
        limited_cpu = statistics.median(cpu for _, cpu in samples[True])
        unlimited_cpu = statistics.median(cpu for _, cpu in samples[False])
        figures[f"batch_{size}"] = {
            "limited_ms_per_delivery": limited_ms,
            "unlimited_ms_per_delivery": unlimited_ms,
            "ratio": limited_ms / unlimited_ms,
            "limited_cpu_ms_per_delivery": limited_cpu,
            "unlimited_cpu_ms_per_delivery": unlimited_cpu,
            "cpu_ratio": limited_cpu / unlimited_cpu,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="outflow_bench_limiter")
    parser.add_argument("--cache-url", default=f"{REDIS}/12")
    parser.add_argument("--runs", type=int, default=15)
    arguments = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="outflow-limiter-bench-"))
    os.environ.update(outflow_environment(port=0, state_dir=state))
    # Tasks sent after each ingest go to an in-memory broker: this process attempts the batches itself.
    os.environ.update(
        DATABASE_URL=database_url(arguments.database), CACHE_URL=arguments.cache_url, CELERY_BROKER_URL="memory://"
    )
    database_recreate(arguments.database)
    redis_flush(arguments.cache_url)
    receiver, receiver_base = python_receiver_start(state, port=free_port())
    receiver_url = f"{receiver_base}/hook"
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        result = {
            "available": True,
            "rate_limit": RATE_LIMIT,
            "permit": _permit_cost(),
            "attempt": _attempt_cost(runs=arguments.runs, receiver_url=receiver_url),
        }
    finally:
        python_receiver_stop(receiver)
        from django.db import connections

        connections.close_all()
        database_drop(arguments.database)
        redis_flush(arguments.cache_url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Outflow's throughput: ingest events/s (worker and beat frozen) and end-to-end deliveries/s (everything running)."""

import time

from bench.databases import redis_commands
from bench.environment import BROKER_URL
from bench.load import batch_bodies, post_all
from bench.memory import PeakSampler
from bench.outflow import OutflowStack
from bench.processes import poll_until
from bench.receiver import Receiver

POLL_SECONDS = 0.25


def subscriptions_create(
    stack: OutflowStack, urls: list[str], *, tag: str, filters: list[dict] | None = None
) -> list[str]:
    """One subscription per URL; with `filters`, the n-th has the n-th filter."""
    return [
        stack.api.subscription_create(
            name=f"bench {tag} {n}", url=url, payload_filter=filters[n % len(filters)] if filters else None
        )
        for n, url in enumerate(urls)
    ]


def ingest_run(
    stack: OutflowStack, receiver: Receiver, *, tag: str, fanout: int, events: int, filters: list[dict] | None = None
) -> dict:
    """events/s the API accepts with nothing else running: worker and beat are frozen, tasks wait in the broker."""
    urls = [receiver.url(f"/outflow/{tag}/{n}") for n in range(fanout)]
    ids = subscriptions_create(stack, urls, tag=tag, filters=filters)
    bodies = batch_bodies(prefix=tag, count=events)
    stack.freeze_pipeline()
    try:
        web_before = stack.cpu_seconds()["web"]
        seconds = post_all(stack.api, bodies)
        web_cpu = stack.cpu_seconds()["web"] - web_before
    finally:
        stack.purge_queue()
        stack.thaw_pipeline()
    stack.clear(ids)
    return {
        "events": events,
        "seconds": seconds,
        "events_per_second": events / seconds,
        "web_cpu_ms_per_event": web_cpu * 1000 / events,
    }


def e2e_run(
    stack: OutflowStack,
    receiver: Receiver,
    sampler: PeakSampler,
    *,
    tag: str,
    fanout: int,
    events: int,
    timeout: float,
    stats_wait: float = 0.0,
) -> dict:
    """Deliveries/s from the first ingest call to the last delivery recorded as succeeded (its request log written)."""
    ids = subscriptions_create(stack, [receiver.url(f"/outflow/{tag}/{n}") for n in range(fanout)], tag=tag)
    bodies = batch_bodies(prefix=tag, count=events)
    expected = events * fanout
    sampler.restart("outflow worker")
    cpu_before, activity_before = stack.cpu_seconds(), stack.database.activity()
    commands_before = redis_commands(BROKER_URL)
    started = time.time()
    ingest_seconds = post_all(stack.api, bodies)
    poll_until(
        lambda: stack.database.succeeded(ids)[0] >= expected,
        timeout=max(0.0, started + timeout - time.time()),
        interval=POLL_SECONDS,
    )
    delivered, last = stack.database.succeeded(ids)
    peak_rss = sampler.peak("outflow worker")
    cpu = {name: seconds - cpu_before[name] for name, seconds in stack.cpu_seconds().items()}
    # A backend's statistics reach pg_stat_database a second after its commit when busy, up to 10 s when idle.
    time.sleep(stats_wait)
    activity = {name: value - activity_before[name] for name, value in stack.database.activity().items()}
    per_delivery = max(delivered, 1)
    costs = {
        "worker_cpu_ms": cpu["worker"] * 1000 / per_delivery,
        "web_cpu_ms": cpu["web"] * 1000 / per_delivery,
        "postgres_cpu_ms": cpu["postgres"] * 1000 / per_delivery,
        "redis_cpu_ms": cpu["redis"] * 1000 / per_delivery,
        # Every commit of the database in the run (the harness's polling included: a few per second).
        "commits": activity["commits"] / per_delivery,
        "rows_written": (activity["inserted"] + activity["updated"] + activity["deleted"]) / per_delivery,
        "redis_commands": (redis_commands(BROKER_URL) - commands_before) / per_delivery,
    }
    stack.clear(ids)
    seconds = last - started if last else None
    return {
        "events": events,
        "expected": expected,
        "deliveries": delivered,
        "complete": delivered >= expected,
        "ingest_seconds": ingest_seconds,
        "seconds": seconds,
        "deliveries_per_second": delivered / seconds if seconds else None,
        "worker_peak_rss_bytes": peak_rss,
        "per_delivery": costs,
    }

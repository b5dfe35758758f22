"""Latency from ingest to arrival at the receiver under a paced load, and the dead-endpoint scenario built on it.

Each event carries `sentAt` (time.time() just before its ingest call). The receiver logs each request's
arrival time and its `webhook-id` (the delivery id); the database maps a delivery id to its event's
sentAt. Deliveries that never arrived count as infinitely late, so they can only raise a percentile.
"""

import math
import time

from bench.blackhole import Blackhole
from bench.load import post_paced
from bench.outflow import OutflowStack
from bench.processes import poll_until
from bench.receiver import Receiver
from bench.throughput import POLL_SECONDS, subscriptions_create

PACED_POSTS_PER_SECOND = 20
PERCENTILES = (50, 95, 99)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def latency_run(
    stack: OutflowStack,
    receiver: Receiver,
    *,
    tag: str,
    urls: list[str],
    measured: int,
    rate: float,
    seconds: float,
    drain_seconds: float,
) -> dict:
    """Send `rate` events/s for `seconds` to subscriptions at `urls`; latencies of the first `measured` ones (ms)."""
    ids = subscriptions_create(stack, urls, tag=tag)
    measured_ids = ids[:measured]
    mark = receiver.mark()
    load = post_paced(
        stack.api, prefix=tag, rate=rate, seconds=seconds, batch_size=max(1, round(rate / PACED_POSTS_PER_SECOND))
    )
    expected = load.sent * measured
    poll_until(
        lambda: stack.database.succeeded(measured_ids)[0] >= expected, timeout=drain_seconds, interval=POLL_SECONDS
    )
    time.sleep(POLL_SECONDS)  # let the receiver's last log lines reach the disk
    sent_at = stack.database.sent_at_by_delivery(measured_ids)
    first_arrival: dict[str, float] = {}
    for arrival in receiver.arrivals(f"/outflow/{tag}/", since=mark):
        if arrival.webhook_id in sent_at:
            first_arrival[arrival.webhook_id] = min(arrival.at, first_arrival.get(arrival.webhook_id, math.inf))
    stack.clear(ids)
    latencies_ms = sorted((at - sent_at[delivery]) * 1000 for delivery, at in first_arrival.items())
    missing = expected - len(latencies_ms)
    with_missing = latencies_ms + [math.inf] * missing
    result = {
        "events": load.sent,
        "rate_achieved": load.rate,
        "late_batches": load.late_batches,
        "deliveries_expected": expected,
        "deliveries_arrived": len(latencies_ms),
        "missing": missing,
        "latencies_ms": [round(value, 3) for value in latencies_ms],
    }
    for q in PERCENTILES:
        value = percentile(with_missing, q) if with_missing else math.inf
        result[f"p{q}_ms"] = None if math.isinf(value) else round(value, 3)
    return result


def dead_endpoint_scenario(
    stack: OutflowStack, receiver: Receiver, *, tag: str, rate: float, seconds: float, drain_seconds: float
) -> dict:
    """p95 of nine healthy subscriptions next to a tenth that is healthy (baseline) or dead (connects time out)."""
    healthy = [receiver.url(f"/outflow/{tag}-baseline/{n}") for n in range(10)]
    baseline = latency_run(
        stack,
        receiver,
        tag=f"{tag}-baseline",
        urls=healthy,
        measured=9,
        rate=rate,
        seconds=seconds,
        drain_seconds=drain_seconds,
    )
    with Blackhole() as blackhole:
        urls = [receiver.url(f"/outflow/{tag}-dead/{n}") for n in range(9)] + [blackhole.url("/dead")]
        dead = latency_run(
            stack,
            receiver,
            tag=f"{tag}-dead",
            urls=urls,
            measured=9,
            rate=rate,
            seconds=seconds,
            drain_seconds=drain_seconds,
        )
    ratio = dead["p95_ms"] / baseline["p95_ms"] if dead["p95_ms"] and baseline["p95_ms"] else None
    return {"baseline": baseline, "with_dead_endpoint": dead, "p95_ratio": ratio}

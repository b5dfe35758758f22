"""Scenario: deliveries waiting for a retry far in the future must cost rows, not worker memory.

The worker's resident memory (its process tree) is read, N deliveries in `retrying` are inserted straight
into the database, and the worker's peak is taken over the next sweep cycles.
"""

import json
import time

from bench.environment import SWEEP_INTERVAL_SECONDS
from bench.memory import PeakSampler, tree_rss_bytes
from bench.outflow import OutflowStack
from bench.receiver import Receiver
from bench.throughput import subscriptions_create


def retry_memory_scenario(
    stack: OutflowStack, receiver: Receiver, sampler: PeakSampler, *, count: int, sweeps: int
) -> dict:
    ids = subscriptions_create(stack, [receiver.url("/outflow/retrying/0")], tag="retrying")
    before = tree_rss_bytes(stack.worker_pid())
    sampler.restart("outflow worker")
    seeded = json.loads(stack.python("-m", "bench.seed_retrying", "--subscription", ids[0], "--count", str(count)))
    time.sleep(sweeps * SWEEP_INTERVAL_SECONDS)
    after = sampler.peak("outflow worker")
    stack.clear(ids)
    return {
        "deliveries": count,
        "insert_seconds": seeded["seconds"],
        "sweeps_observed": sweeps,
        "worker_rss_before_bytes": before,
        "worker_rss_peak_after_bytes": after,
        "growth_bytes": after - before,
    }

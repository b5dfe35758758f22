"""Run under Outflow's settings: the median cost per delivery of a JavaScript mapping, and a sandbox process's memory.

A delivery batch maps all its events in one round trip to a sandbox process (mapping/sandbox.py); the preview and
Send test map one event. Times WARMUP + RUNS of each on one 1 KiB event, from this process: warm (one environment,
whose isolate the sandbox process keeps) and cold (each batch from an environment the process has not seen, so each
makes a fresh isolate, as an isolate per batch would). With --memory, also the resident memory of one sandbox process
after 1, 10, 50 and 200 environments each mapped a batch.

Alone: `.venv/bin/python -m bench.mapping_cost [--memory]` (tests.settings unless DJANGO_SETTINGS_MODULE is set).
"""

import argparse
import json
import os
import statistics
import time

import django

from bench.load import event

SCRIPT = """
return {
  id: event.id,
  name: event.eventName,
  user: event.endUserId,
  card: event.cardContext.cardTemplateId,
  sentAt: event.sentAt,
};
"""
WARMUP = 20
RUNS = 200
COLD_RUNS = 60
MEMORY_ENVIRONMENTS = (1, 10, 50, 200)


def _median_ms_per_event(batch: int, *, cold: bool = False) -> float:
    from mapping.sandbox import MappingLimits, mapping_run_each

    # Well above a run's cost, so that a loaded machine times nothing out: the limit does not change what a run costs.
    limits = MappingLimits(timeout_ms=1000)
    events = [event(event_id=f"mapping-cost-{index}") for index in range(batch)]
    for _ in range(WARMUP):
        mapping_run_each(script=SCRIPT, events=events, environment_id="bench-warm", limits=limits)
    samples = []
    for run in range(COLD_RUNS if cold else RUNS):
        environment_id = f"bench-cold-{batch}-{run}" if cold else "bench-warm"
        started = time.perf_counter()
        outcomes = mapping_run_each(script=SCRIPT, events=events, environment_id=environment_id, limits=limits)
        samples.append((time.perf_counter() - started) / batch)
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    return statistics.median(samples) * 1000


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _memory() -> dict:
    """One sandbox process keeping every environment's isolate: its RSS after each count of environments."""
    from mapping.sandbox import MappingLimits, SandboxProcess

    limits = MappingLimits(timeout_ms=1000)
    events = [json.dumps(event(event_id=f"mapping-memory-{index}")).encode() for index in range(100)]
    process = SandboxProcess(isolates=max(MEMORY_ENVIRONMENTS))
    try:
        rss = {"started": round(_rss_mib(process.pid), 1)}
        for environments in range(1, max(MEMORY_ENVIRONMENTS) + 1):
            outcomes = process.run(script=SCRIPT, events=events, environment_id=f"memory-{environments}", limits=limits)
            assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
            if environments in MEMORY_ENVIRONMENTS:
                rss[str(environments)] = round(_rss_mib(process.pid), 1)
    finally:
        process.kill()
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memory", action="store_true", help="also a sandbox process's RSS by environments kept")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.conf import settings

    batch = settings.OUTFLOW_DELIVERY_BATCH
    result = {
        "available": True,
        "runs": RUNS,
        "batch": batch,
        "isolates": settings.OUTFLOW_MAPPING_ISOLATES,
        "median_ms": _median_ms_per_event(batch),
        "single_median_ms": _median_ms_per_event(1),
        "cold_median_ms": _median_ms_per_event(batch, cold=True),
        "cold_single_median_ms": _median_ms_per_event(1, cold=True),
    }
    if arguments.memory:
        result["sandbox_rss_mib_by_environments"] = _memory()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

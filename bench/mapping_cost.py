"""Run under Outflow's settings: the median cost per delivery of a JavaScript mapping, one run alone and in batches.

A delivery batch maps all its events in one round trip to a sandbox process (mapping/sandbox.py); the preview and
Send test map one event. Times WARMUP + RUNS of each on one 1 KiB event, from this process.
"""

import json
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


def _median_ms_per_event(batch: int) -> float:
    from mapping.sandbox import MappingLimits, mapping_run_each

    limits = MappingLimits(timeout_ms=50)
    events = [event(event_id=f"mapping-cost-{index}") for index in range(batch)]
    for _ in range(WARMUP):
        mapping_run_each(script=SCRIPT, events=events, limits=limits)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        outcomes = mapping_run_each(script=SCRIPT, events=events, limits=limits)
        samples.append((time.perf_counter() - started) / batch)
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    return statistics.median(samples) * 1000


def main() -> None:
    django.setup()
    from django.conf import settings

    batch = settings.OUTFLOW_DELIVERY_BATCH
    print(
        json.dumps(
            {
                "available": True,
                "runs": RUNS,
                "batch": batch,
                "median_ms": _median_ms_per_event(batch),
                "single_median_ms": _median_ms_per_event(1),
            }
        )
    )


if __name__ == "__main__":
    main()

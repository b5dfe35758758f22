"""Run under Outflow's settings: the median cost of one JavaScript mapping run, once the project has mappings.

The hook is `mapping.sandbox.mapping_run(*, script, event, timeout_ms)`; until that exists this prints
`{"available": false, ...}`. Otherwise it times WARMUP + RUNS calls on one 1 KiB event, in this process.
"""

import importlib
import json
import statistics
import time

import django

from bench.environment import ROOT
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
TIMEOUT_MS = 50
WARMUP = 100
RUNS = 1000


def main() -> None:
    django.setup()
    if not (ROOT / "mapping" / "sandbox.py").exists():
        print(json.dumps({"available": False, "reason": "mapping/sandbox.py does not exist yet"}))
        return
    sandbox = importlib.import_module("mapping.sandbox")
    mapping_run = getattr(sandbox, "mapping_run", None)
    if mapping_run is None:
        print(json.dumps({"available": False, "reason": "mapping/sandbox.py has no mapping_run"}))
        return
    payload = event(event_id="mapping-cost")
    for _ in range(WARMUP):
        mapping_run(script=SCRIPT, event=payload, timeout_ms=TIMEOUT_MS)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        mapping_run(script=SCRIPT, event=payload, timeout_ms=TIMEOUT_MS)
        samples.append(time.perf_counter() - started)
    print(json.dumps({"available": True, "runs": RUNS, "median_ms": statistics.median(samples) * 1000}))


if __name__ == "__main__":
    main()

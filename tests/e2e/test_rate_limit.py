"""End to end: a subscription's rate limit measured at a real receiver, with two worker processes; a 429's slow-down."""

import json
import subprocess
import sys
import time

import pytest

from delivery.models import Delivery
from tests import leak_watch
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event, subscription_payload
from tests.worker import ROOT, CeleryProcesses

pytestmark = pytest.mark.e2e

DRAIN_DONE = "delivery.tasks.subscription_drain["


@pytest.fixture
def second_worker(worker):
    """Another worker process on the same database and broker, as a second machine would run one."""
    processes = CeleryProcesses(worker.environment, concurrency=worker.concurrency)
    leak_watch.watch_logs_in(processes.directory)
    processes.start_worker()
    yield processes
    processes.stop()


def _most_in_one_second(times: list[float]) -> int:
    """The most arrivals in any one-second window [t, t + 1)."""
    times = sorted(times)
    return max(sum(1 for later in times[index:] if later < at + 1.0) for index, at in enumerate(times))


def _drains_run(processes: CeleryProcesses, since: int) -> int:
    return (processes.directory / "worker.log").read_text()[since:].count(DRAIN_DONE)


@pytest.fixture
def receiver_apart():
    """A real receiver in a process of its own, so that what this test process does cannot delay its clock readings
    (its arrival times, by the system's monotonic clock)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _RECEIVER_PROCESS], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    base_url = process.stdout.readline().strip()

    def arrivals() -> list[tuple[float, str]]:
        """Stop the receiver; the arrival time and webhook-id of each request it received."""
        output, _ = process.communicate("", timeout=30)
        return [tuple(arrival) for arrival in json.loads(output)]

    yield base_url, arrivals
    if process.poll() is None:
        process.kill()


_RECEIVER_PROCESS = """
import json, sys
from tests.receiver import Receiver
receiver = Receiver()
print(receiver.base_url, flush=True)
sys.stdin.read()
json.dump([[request.at, request.headers.get("webhook-id")] for request in receiver.received("/hook")], sys.stdout)
"""


def test_forty_events_limited_to_five_a_second_arrive_with_no_second_over_five_from_two_workers(
    worker, second_worker, api, receiver_apart
):
    base_url, arrivals = receiver_apart
    response = api.post("/api/v1/subscriptions", subscription_payload(f"{base_url}/hook", rate_limit=5), format="json")
    assert response.status_code == 201
    logs = [worker, second_worker]
    offsets = [len((processes.directory / "worker.log").read_text()) for processes in logs]

    # Eight calls, so eight batches race for permits from both processes' threads.
    for _ in range(8):
        ingest(api, *[event() for _ in range(5)])

    wait_until(lambda: not Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists(), timeout=60)
    time.sleep(1.0)
    received = arrivals()
    times = [at for at, _ in received]

    assert len(received) == 40 and len({webhook_id for _, webhook_id in received}) == 40
    assert _most_in_one_second(times) <= 5
    assert max(times) - min(times) >= 6.0
    # Waiting on the limit is no attempt: each delivery was attempted once.
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert all(_drains_run(processes, offset) > 0 for processes, offset in zip(logs, offsets, strict=True))


def test_a_429_with_retry_after_holds_the_whole_subscription_for_that_long(worker, api, receiver):
    receiver.script("/hook", statuses=[429, 204], headers={"Retry-After": "2"})
    subscribe(api, receiver)

    ingest(api, *[event() for _ in range(4)])
    [told] = receiver.wait_for(1, "/hook")
    wait_until(lambda: Delivery.objects.filter(last_status_code=429).exists())
    # A batch that starts during the slow-down waits too.
    ingest(api, *[event() for _ in range(3)])

    requests = receiver.wait_for(8, "/hook", timeout=30)
    wait_until(lambda: not Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists())
    later = [request.at - told.at for request in requests[1:]]
    assert len(later) == 7
    assert min(later) >= 2.0
    assert Delivery.objects.get(last_status_code=204, attempts=2)

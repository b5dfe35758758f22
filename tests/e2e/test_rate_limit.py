"""End to end: a subscription's rate limit measured at a real receiver, with two worker processes; a 429's slow-down."""

import time

import pytest

from delivery.models import Delivery
from tests import leak_watch
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event
from tests.worker import CeleryProcesses

pytestmark = pytest.mark.e2e

ATTEMPT_DONE = "delivery.tasks.deliveries_attempt["


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


def _attempts_run(processes: CeleryProcesses, since: int) -> int:
    return (processes.directory / "worker.log").read_text()[since:].count(ATTEMPT_DONE)


def test_forty_events_limited_to_five_a_second_arrive_with_no_second_over_five_from_two_workers(
    worker, second_worker, api, receiver
):
    subscribe(api, receiver, rate_limit=5)
    logs = [worker, second_worker]
    offsets = [len((processes.directory / "worker.log").read_text()) for processes in logs]

    # Eight calls, so eight batches race for permits from both processes' threads.
    for _ in range(8):
        ingest(api, *[event() for _ in range(5)])

    requests = receiver.wait_for(40, "/hook", timeout=60)
    wait_until(lambda: not Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists(), timeout=30)
    time.sleep(1.0)
    requests = receiver.received("/hook")
    times = [request.at for request in requests]

    assert len(requests) == 40 and len({request.headers["webhook-id"] for request in requests}) == 40
    assert _most_in_one_second(times) <= 5
    assert max(times) - min(times) >= 6.0
    # Waiting on the limit is no attempt: each delivery was attempted once.
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert all(_attempts_run(processes, offset) > 0 for processes, offset in zip(logs, offsets, strict=True))


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

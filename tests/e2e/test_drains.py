"""End to end, with real worker processes: ordered subscriptions (two workers, a failing head, a worker killed),
resend, one tenant's backlog that another tenant's deliveries overtake, and the sweepers that need no beat."""

import time

import pytest
from rest_framework.test import APIClient

from delivery.models import Delivery
from tenancy.services import environment_create
from tests import leak_watch
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event
from tests.worker import CeleryProcesses

pytestmark = pytest.mark.e2e


@pytest.fixture
def two_workers(worker):
    """A second worker process beside the session's, as a second machine would run one."""
    processes = CeleryProcesses(worker.environment, concurrency=worker.concurrency)
    leak_watch.watch_logs_in(processes.directory)
    processes.start_worker()
    yield worker, processes
    processes.stop()


def _order(receiver, path="/hook") -> list[str]:
    return [request.headers["webhook-id"] for request in receiver.received(path)]


def _ingest_order(subscription_id: str) -> list[str]:
    deliveries = Delivery.objects.filter(subscription_id=subscription_id).order_by("created_at")
    return [str(pk) for pk in deliveries.values_list("pk", flat=True)]


def test_an_ordered_subscription_keeps_its_order_with_two_workers_and_a_failing_head(two_workers, api, receiver):
    # The third delivery fails twice before it succeeds; nothing behind it may arrive before it does.
    receiver.script("/hook", statuses=[204, 204, 500, 500] + [204] * 60)
    subscription = subscribe(api, receiver, ordered=True)
    for _ in range(6):
        ingest(api, *[event() for _ in range(5)])

    wait_until(lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 30, timeout=60)

    expected = _ingest_order(subscription["id"])
    arrived = _order(receiver)
    # Each delivery arrives after every one ingested before it; the failing one twice more before it succeeded.
    assert [webhook_id for index, webhook_id in enumerate(arrived) if webhook_id not in arrived[:index]] == expected
    assert arrived[2] == arrived[3] == arrived[4] == expected[2]
    assert len(arrived) == 32


def test_an_ordered_subscription_keeps_its_order_across_a_worker_kill(worker, api, receiver):
    receiver.script("/hook", statuses=[204], delay=0.05)
    subscription = subscribe(api, receiver, ordered=True)
    for _ in range(4):
        ingest(api, *[event() for _ in range(10)])
    wait_until(lambda: len(receiver.received("/hook")) >= 5)

    worker.kill_worker()
    sent_before_the_kill = {request.headers["webhook-id"] for request in receiver.received("/hook")}
    worker.start_worker()
    wait_until(lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 40, timeout=60)

    expected = _ingest_order(subscription["id"])
    arrived = _order(receiver)
    # At least once: what the killed worker sent but had not recorded goes again once its lease has passed (in order,
    # from the oldest), so only those arrive twice; nothing arrives before one ahead of it.
    first_arrivals = [webhook_id for index, webhook_id in enumerate(arrived) if webhook_id not in arrived[:index]]
    assert first_arrivals == expected
    twice = {webhook_id for webhook_id in arrived if arrived.count(webhook_id) > 1}
    assert twice <= sent_before_the_kill and all(arrived.count(webhook_id) == 2 for webhook_id in twice)


def test_resend_sends_a_delivery_again(worker, api, receiver):
    subscribe(api, receiver)
    ingest(api, event())
    receiver.wait_for(1, "/hook")
    delivery = Delivery.objects.get()
    wait_until(lambda: api.get(f"/api/v1/deliveries/{delivery.pk}").json()["waiting_on"]["reason"] == "final")

    response = api.post(f"/api/v1/deliveries/{delivery.pk}/resend")

    assert response.status_code == 200, response.json()
    [first, again] = receiver.wait_for(2, "/hook")
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == str(delivery.pk)
    wait_until(lambda: Delivery.objects.get().attempts == 2 and Delivery.objects.get().status == "succeeded")


def test_another_tenants_deliveries_overtake_a_backlog_of_three_thousand(worker, api, receiver, catalog):
    # Each request of the busy tenant takes 10 ms at the receiver: its backlog lasts several seconds.
    receiver.script("/busy", statuses=[204], delay=0.01)
    subscribe(api, receiver, "/busy")
    other_environment, key = environment_create(name="quiet tenant")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    subscribe(other, receiver, "/quiet")
    for _ in range(6):
        ingest(api, *[event() for _ in range(500)])
    wait_until(lambda: len(receiver.received("/busy")) >= 100, timeout=30)

    started = time.monotonic()
    for _ in range(4):
        ingest(other, *[event() for _ in range(50)])
    receiver.wait_for(200, "/quiet", timeout=60)
    quiet_took = time.monotonic() - started

    busy_done_then = len(receiver.received("/busy"))
    assert busy_done_then < 3000, "the quiet tenant's deliveries waited for the whole backlog"
    wait_until(lambda: len(receiver.received("/busy")) >= 3000, timeout=120)
    assert quiet_took < 20


@pytest.fixture
def workers_that_retry_from_rows(celery_processes, transactional_db, catalog):
    """Two worker processes in the session worker's place, whose retries all wait as rows: only a sweeper brings
    them back (and beat sweeps no deliveries)."""
    if celery_processes.worker.poll() is None:
        celery_processes.worker.terminate()
        celery_processes.worker.wait(timeout=30)
    pair = [
        CeleryProcesses({**celery_processes.environment, "OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS": "0"}) for _ in range(2)
    ]
    for processes in pair:
        leak_watch.watch_logs_in(processes.directory)
        processes.start_worker()
    yield pair
    for processes in pair:
        processes.stop()


def test_the_workers_sweep_and_one_of_two_killed_leaves_the_other_sweeping(workers_that_retry_from_rows, api, receiver):
    first, _ = workers_that_retry_from_rows
    receiver.script("/hook", statuses=[500, 204])
    subscribe(api, receiver)
    first.kill_worker()
    ingest(api, event())

    failed, retried = receiver.wait_for(2, "/hook", timeout=30)
    assert failed.headers["webhook-id"] == retried.headers["webhook-id"]
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED)


def test_deleting_a_subscription_while_its_deliveries_are_in_flight_answers_204(worker, api, receiver):
    # Each request takes 20 ms at the receiver, so batches are being sent and recorded when the delete comes.
    receiver.script("/hook", statuses=[204], delay=0.02)
    answers = []
    for _ in range(5):
        subscription = subscribe(api, receiver)
        sent = len(receiver.received("/hook"))
        ingest(api, *[event() for _ in range(100)])
        wait_until(lambda sent=sent: len(receiver.received("/hook")) > sent + 5)
        answers.append(api.delete(f"/api/v1/subscriptions/{subscription['id']}").status_code)

    assert answers == [204] * 5
    wait_until(lambda: not Delivery.objects.exists())

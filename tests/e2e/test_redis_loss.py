"""Redis killed under load and brought back empty: two workers busy with thousands of deliveries to three
subscriptions lose their broker and cache mid-flow for about 20 s. No process may exit, and everything accepted,
before and during the outage, arrives within a minute of Redis's return (the sweeper re-finds what the lost tasks
carried)."""

import json
import time

import pytest
import requests

from tests.factories import event, subscription_payload
from tests.receiver import Receiver
from tests.throwaway_stack import ThrowawayStack

pytestmark = pytest.mark.e2e
PATHS = ("/first", "/second", "/third")
EVENTS_BEFORE = 1500  # × 3 subscriptions: 4,500 deliveries
OUTAGE_SECONDS = 20
BATCH = 100


@pytest.fixture
def stack():
    # The Procfile's 16 threads a worker: with that many tasks in flight unacknowledged, the close on connection loss
    # has messages to restore, which is what used to kill the worker.
    built = ThrowawayStack(workers=2, concurrency=16)
    try:
        built.start()
        yield built
    finally:
        built.close()


@pytest.fixture
def receiver():
    server = Receiver()
    for path in PATHS:
        # A little slower than loopback, so the deliveries are still in flight when Redis goes.
        server.script(path, statuses=[204], delay=0.02)
    yield server
    server.close()


def _arrived(receiver: Receiver, path: str) -> set[str]:
    return {json.loads(request.body)["id"] for request in receiver.received(path)}


def _ingest(stack: ThrowawayStack, session: requests.Session, count: int) -> list[str]:
    accepted = []
    for start in range(0, count, BATCH):
        events = [event() for _ in range(min(BATCH, count - start))]
        response = stack.call("post", "/api/v1/events", {"events": events}, session=session)
        assert response.status_code == 202, response.text
        accepted.extend(sent["id"] for sent in events)
    return accepted


def test_redis_killed_under_load_loses_nothing_and_no_process_exits(stack, receiver):
    for path in PATHS:
        created = stack.call("post", "/api/v1/subscriptions", subscription_payload(receiver.url(path)))
        assert created.status_code == 201, created.text
    session = requests.Session()
    accepted = _ingest(stack, session, EVENTS_BEFORE)
    stack.wait_until(lambda: len(receiver.received()) >= 300, timeout=30, what="deliveries to be under way")

    stack.redis.stop()
    killed_at = time.monotonic()
    arrived_at_kill = len(receiver.received())
    assert arrived_at_kill < 3 * EVENTS_BEFORE, "everything arrived before Redis went: nothing was in flight"
    accepted += _ingest(stack, session, 30)  # accepted while Redis is gone: stored, left to the sweeper
    stack.wait_until(lambda: time.monotonic() - killed_at >= OUTAGE_SECONDS, timeout=OUTAGE_SECONDS + 5, what="outage")
    stack.redis.start()

    expected = set(accepted)
    stack.wait_until(
        lambda: all(expected <= _arrived(receiver, path) for path in PATHS),
        timeout=60,
        what="every accepted delivery to arrive after Redis's return",
    )
    assert stack.exited() == []

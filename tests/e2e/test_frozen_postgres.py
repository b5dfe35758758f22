"""A PostgreSQL that stops answering (its processes SIGSTOPped, the port still open) holds no API call for long: on
a kept HTTP connection, ingest answers 503 `unavailable` with Retry-After within about 5 s. Once it thaws, ingest
answers 202 again and the worker delivers, with no process restarted."""

import json
import time

import pytest
import requests

from tests.factories import event, subscription_payload
from tests.receiver import Receiver
from tests.throwaway_stack import ThrowawayStack

pytestmark = pytest.mark.e2e
ANSWER_WITHIN_SECONDS = 5.5  # about 5 s: a second's health check of the kept connection, then a 3 s connect timeout


@pytest.fixture
def stack():
    built = ThrowawayStack()
    try:
        built.start()
        yield built
    finally:
        built.close()


def _arrived(receiver: Receiver) -> set[str]:
    return {json.loads(request.body)["id"] for request in receiver.received("/hook")}


def test_a_frozen_database_answers_503_quickly_and_delivery_resumes_when_it_thaws(stack, receiver):
    assert stack.call("post", "/api/v1/subscriptions", subscription_payload(receiver.url("/hook"))).status_code == 201
    session = requests.Session()  # one kept HTTP connection, as a client's pool keeps it
    before = [event() for _ in range(5)]
    assert stack.call("post", "/api/v1/events", {"events": before}, session=session).status_code == 202
    stack.wait_until(lambda: {sent["id"] for sent in before} <= _arrived(receiver), timeout=20, what="first delivery")

    stack.postgres.freeze()
    try:
        for _ in range(3):
            started = time.monotonic()
            response = stack.call("post", "/api/v1/events", {"events": [event()]}, session=session, timeout=30)
            took = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "unavailable"
            assert int(response.headers["Retry-After"]) > 0
            assert took < ANSWER_WITHIN_SECONDS, took
        started = time.monotonic()
        listed = stack.call("get", "/api/v1/subscriptions", session=session, timeout=30)
        assert listed.status_code == 503 and time.monotonic() - started < ANSWER_WITHIN_SECONDS
    finally:
        stack.postgres.thaw()

    after = [event() for _ in range(5)]

    def accepted() -> bool:
        return stack.call("post", "/api/v1/events", {"events": after}, session=session).status_code == 202

    stack.wait_until(accepted, timeout=15, what="ingest to accept again")
    expected = {sent["id"] for sent in after}
    stack.wait_until(lambda: expected <= _arrived(receiver), timeout=30, what="the worker to deliver after the thaw")
    assert stack.exited() == []

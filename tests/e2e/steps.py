"""Steps the end-to-end tests share: subscribe and ingest through the API, wait for what the worker does."""

import time

from tests.factories import subscription_payload


def subscribe(api, receiver, path="/hook", **fields) -> dict:
    response = api.post("/api/v1/subscriptions", subscription_payload(receiver.url(path), **fields), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def ingest(api, *events) -> dict:
    response = api.post("/api/v1/events", {"events": list(events)}, format="json")
    assert response.status_code == 202, response.json()
    return response.json()


def wait_until(predicate, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")

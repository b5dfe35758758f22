"""Send test: one request now, marked as a test, never retried, never pausing."""

import json

from standardwebhooks.webhooks import Webhook

from delivery.models import Delivery
from subscriptions.models import Subscription
from tests.factories import subscription_payload


def _subscribe(api, receiver, **fields) -> dict:
    payload = {**subscription_payload(receiver.url("/hook")), **fields}
    response = api.post("/api/v1/subscriptions", payload, format="json")
    assert response.status_code == 201
    return response.json()


def test_send_test_to_a_failing_endpoint_answers_the_500_entry_and_changes_nothing(api, receiver):
    receiver.script("/hook", statuses=[500], body=b"boom")
    subscription = _subscribe(api, receiver, max_retries=0)
    response = api.post(f"/api/v1/subscriptions/{subscription['id']}/test")
    assert response.status_code == 200
    entry = response.json()
    assert entry["response_status"] == 500 and entry["response_body"] == "boom" and entry["test"] is True
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    assert Delivery.objects.count() == 0
    assert len(receiver.received("/hook")) == 1


def test_send_test_sends_a_signed_sample_of_the_first_event_type(api, receiver):
    subscription = _subscribe(api, receiver, event_types=["card-dismissed", "card-completed"], card="card-7")
    secret = api.get(f"/api/v1/subscriptions/{subscription['id']}/secret").json()["secret"]
    api.post(f"/api/v1/subscriptions/{subscription['id']}/test")
    [request] = receiver.received("/hook")
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["eventName"] == "card-completed" and body["test"] is True
    assert body["cardContext"]["cardTemplateId"] == "card-7"


def test_send_test_sends_the_given_event_marked_as_a_test(api, receiver):
    subscription = _subscribe(api, receiver, method="PUT", headers={"X-Team": "growth"})
    api.post(
        f"/api/v1/subscriptions/{subscription['id']}/test",
        {"event": {"id": "mine", "eventName": "card-completed", "test": False}},
        format="json",
    )
    [request] = receiver.received("/hook")
    assert request.method == "PUT" and request.headers["x-team"] == "growth"
    assert json.loads(request.body) == {"id": "mine", "eventName": "card-completed", "test": True}


def test_send_test_of_an_event_type_sends_its_catalog_example(api, receiver):
    subscription = _subscribe(api, receiver, card="card-7")
    path = f"/api/v1/subscriptions/{subscription['id']}/test"
    assert api.post(path, {"event_type": "card-dismissed"}, format="json").status_code == 200
    [request] = receiver.received("/hook")
    body = json.loads(request.body)
    assert body["eventName"] == "card-dismissed" and body["test"] is True and body["id"].startswith("test_")
    assert body["cardContext"] == {**body["cardContext"], "cardTemplateId": "card-7", "cardInstanceStatus": "dismissed"}
    unknown = api.post(path, {"event_type": "card-exploded"}, format="json")
    assert unknown.status_code == 400 and "event_type" in unknown.json()["error"]["fields"]
    assert len(receiver.received("/hook")) == 1


def test_send_test_refuses_an_event_that_is_not_an_object(api, receiver):
    subscription = _subscribe(api, receiver)
    response = api.post(f"/api/v1/subscriptions/{subscription['id']}/test", {"event": [1]}, format="json")
    assert response.status_code == 400 and "event" in response.json()["error"]["fields"]
    assert receiver.received() == []


def test_send_test_applies_the_mapping(api, receiver):
    subscription = _subscribe(api, receiver, mapping="return {kind: event.eventName, test: event.test};")
    api.post(f"/api/v1/subscriptions/{subscription['id']}/test")
    [request] = receiver.received("/hook")
    assert json.loads(request.body) == {"kind": "card-completed", "test": True}


def test_send_test_with_a_throwing_mapping_answers_the_error_and_sends_nothing(api, receiver):
    subscription = _subscribe(api, receiver, mapping="throw new Error('bad mapping');")
    entry = api.post(f"/api/v1/subscriptions/{subscription['id']}/test").json()
    assert entry["error"].startswith("mapping error:") and "bad mapping" in entry["error"]
    assert receiver.received() == []


def test_send_test_takes_a_permit_of_the_rate_limit_and_is_logged_unsent_without_one(api, receiver):
    subscription = _subscribe(api, receiver, rate_limit=1)
    assert api.post(f"/api/v1/subscriptions/{subscription['id']}/test").json()["response_status"] == 204

    response = api.post(f"/api/v1/subscriptions/{subscription['id']}/test")

    assert response.status_code == 200
    entry = response.json()
    assert entry["response_status"] is None and "rate limit of 1/s" in entry["error"]
    assert len(receiver.received("/hook")) == 1

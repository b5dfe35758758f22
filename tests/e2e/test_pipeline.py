"""End to end: the API, a real Celery worker and beat, real PostgreSQL and Redis, a real receiver."""

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook

from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event

pytestmark = pytest.mark.e2e


def test_delivery_is_signed_and_verifies_with_standardwebhooks(worker, api, receiver):
    subscription = subscribe(api, receiver)
    secret = api.get(f"/api/v1/subscriptions/{subscription['id']}/secret").json()["secret"]
    sent = event()

    assert ingest(api, sent) == {"accepted": 1, "duplicates": 0, "deliveries": 1}

    [request] = receiver.wait_for(1, "/hook")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Outflow-Webhooks/")
    verified = Webhook(secret).verify(request.body, request.headers)
    assert verified["id"] == sent["id"]
    assert request.headers["webhook-id"] == str(Delivery.objects.get().pk)
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED)
    log = RequestLog.objects.get()
    assert log.response_status == 204 and log.request_body == "[redacted]"


def test_put_with_custom_headers(worker, api, receiver):
    subscribe(api, receiver, method="PUT", headers={"X-Team": "growth", "X-Trace": "abc"})
    ingest(api, event())
    [request] = receiver.wait_for(1, "/hook")
    assert request.method == "PUT"
    assert request.headers["x-team"] == "growth" and request.headers["x-trace"] == "abc"


def test_event_type_and_card_scope_filter_deliveries(worker, api, receiver):
    subscribe(api, receiver, "/completed", event_types=["card-completed"])
    subscribe(api, receiver, "/card-7", event_types=["card-completed", "card-dismissed"], card="card-7")
    subscribe(api, receiver, "/card-8", event_types=["card-completed"], card="card-8")
    completed_7 = event("card-completed")
    dismissed_7 = event("card-dismissed")
    completed_9 = event("card-completed", cardContext={"cardTemplateId": "card-9"})
    displayed = event("card-displayed")

    result = ingest(api, completed_7, dismissed_7, completed_9, displayed)

    assert result == {"accepted": 4, "duplicates": 0, "deliveries": 4}
    completed = receiver.wait_for(2, "/completed")
    card_7 = receiver.wait_for(2, "/card-7")
    time.sleep(0.5)
    assert {json.loads(r.body)["id"] for r in completed} == {completed_7["id"], completed_9["id"]}
    assert {json.loads(r.body)["id"] for r in card_7} == {completed_7["id"], dismissed_7["id"]}
    assert receiver.received("/card-8") == []


def test_retry_then_success_with_growing_gaps_and_one_webhook_id(worker, api, receiver):
    receiver.script("/flaky", statuses=[500, 502, 503, 200])
    subscribe(api, receiver, "/flaky")
    ingest(api, event())

    requests = receiver.wait_for(4, "/flaky")
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    gaps = [later.at - earlier.at for earlier, later in zip(requests, requests[1:], strict=False)]
    # base 0.2 s: retries after ~0.2, ~0.4, ~0.8 s (±20%).
    assert gaps[0] < gaps[1] < gaps[2]
    assert 0.15 <= gaps[0] and gaps[2] <= 2.0
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED)
    assert Delivery.objects.get().attempts == 4
    assert RequestLog.objects.count() == 4


def test_retries_exhausted_pause_the_subscription(worker, api, receiver):
    receiver.script("/down", statuses=[500])
    subscription = subscribe(api, receiver, "/down", max_retries=2)
    ingest(api, event())

    receiver.wait_for(3, "/down")
    wait_until(lambda: Subscription.objects.get().status == Subscription.Status.PAUSED)
    paused = api.get(f"/api/v1/subscriptions/{subscription['id']}").json()
    assert paused["status"] == "paused"
    assert "retries exhausted after 3 attempts" in paused["paused_reason"]
    assert "500" in paused["paused_reason"]
    assert paused["paused_at"]
    assert Delivery.objects.get().status == Delivery.Status.FAILED

    ingest(api, event())
    time.sleep(0.5)
    assert len(receiver.received("/down")) == 3
    assert Delivery.objects.filter(status=Delivery.Status.SKIPPED).count() == 1


def test_auto_disable_off_keeps_the_subscription_active(worker, api, receiver):
    receiver.script("/down", statuses=[500])
    subscribe(api, receiver, "/down", max_retries=1, auto_disable=False)
    ingest(api, event())

    receiver.wait_for(2, "/down")
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.FAILED)
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_max_retries_zero_makes_exactly_one_attempt(worker, api, receiver):
    receiver.script("/down", statuses=[500])
    subscribe(api, receiver, "/down", max_retries=0)
    ingest(api, event())

    receiver.wait_for(1, "/down")
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.FAILED)
    time.sleep(1.0)
    assert len(receiver.received("/down")) == 1


def test_duplicate_event_ids_are_delivered_once(worker, api, receiver):
    subscribe(api, receiver)
    sent = event()
    assert ingest(api, sent, sent) == {"accepted": 1, "duplicates": 1, "deliveries": 1}
    assert ingest(api, sent) == {"accepted": 0, "duplicates": 1, "deliveries": 0}
    receiver.wait_for(1, "/hook")
    time.sleep(0.5)
    assert len(receiver.received("/hook")) == 1


def test_secret_rotation_signs_with_both_secrets(worker, api, receiver):
    subscription = subscribe(api, receiver)
    old = api.get(f"/api/v1/subscriptions/{subscription['id']}/secret").json()["secret"]
    new = api.post(f"/api/v1/subscriptions/{subscription['id']}/secret/rotate").json()["secret"]
    assert new != old and new.startswith("whsec_")

    ingest(api, event())

    [request] = receiver.wait_for(1, "/hook")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)


def test_recover_sends_failed_deliveries_again(worker, api, receiver):
    receiver.script("/later", statuses=[500, 200])
    subscription = subscribe(api, receiver, "/later", max_retries=0)
    ingest(api, event())
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.FAILED)
    api.post(f"/api/v1/subscriptions/{subscription['id']}/resume")

    response = api.post(
        f"/api/v1/subscriptions/{subscription['id']}/recover", {"since": "2020-01-01T00:00:00Z"}, format="json"
    )

    assert response.json() == {"recovered": 1}
    receiver.wait_for(2, "/later")
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED)


def test_worker_killed_mid_run_loses_no_delivery(worker, api, receiver):
    receiver.script("/slow", statuses=[200], delay=0.3)
    subscribe(api, receiver, "/slow")
    events = [event() for _ in range(40)]
    ingest(api, *events)
    receiver.wait_for(3, "/slow")

    worker.kill_worker()
    assert Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists()
    worker.start_worker()

    wait_until(lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 40, timeout=60)
    delivered = {json.loads(request.body)["id"] for request in receiver.received("/slow")}
    assert delivered == {sent["id"] for sent in events}

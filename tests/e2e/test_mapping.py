"""End to end: JavaScript mappings applied by a real worker before delivery to a real receiver."""

import json

import pytest

from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event

pytestmark = pytest.mark.e2e


def test_a_mapping_reshapes_the_delivered_payload(worker, api, receiver):
    subscribe(api, receiver, mapping="return {id: event.id, rating: event.properties.values.rating};")
    api.patch("/api/v1/export-settings", {"include_card_response_data": True}, format="json")
    sent = event()
    ingest(api, sent)
    [request] = receiver.wait_for(1, "/hook")
    assert json.loads(request.body) == {"id": sent["id"], "rating": 5}


def test_returning_null_sends_nothing(worker, api, receiver):
    subscribe(api, receiver, mapping="if (event.endUserId === 'user-42') { return null; }\nreturn event;")
    ingest(api, event(), event(endUserId="user-7"))
    [request] = receiver.wait_for(1, "/hook")
    assert json.loads(request.body)["endUserId"] == "user-7"
    wait_until(lambda: Delivery.objects.filter(status=Delivery.Status.SKIPPED).count() == 1)
    assert "skipped by mapping" in Delivery.objects.get(status=Delivery.Status.SKIPPED).last_error


def test_a_throwing_mapping_fails_at_once_with_its_message_in_the_request_log(worker, api, receiver):
    subscribe(api, receiver, mapping="const id = event.id;\nthrow new Error('no ' + id);")
    ingest(api, event())
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.FAILED)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1
    entry = RequestLog.objects.get()
    assert "line 2" in entry.error and "no" in entry.error and entry.response_status is None
    assert receiver.received() == []
    # One odd event fails its own delivery, not the subscription (OUTFLOW_MAPPING_ERRORS_TO_PAUSE in a row do).
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE

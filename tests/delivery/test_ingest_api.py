"""Ingest through the API: validation all-or-nothing, size limits, deduplication and fan-out rows."""

import json

import pytest
from django.test import override_settings

from delivery.models import Delivery, Event
from tests.factories import event, subscription_payload

URL = "http://127.0.0.1:9/hook"


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def _post_raw(api, body: str):
    return api.generic("POST", "/api/v1/events", body, content_type="application/json")


def _subscribe(api, **fields) -> dict:
    response = api.post("/api/v1/subscriptions", {**subscription_payload(URL), **fields}, format="json")
    assert response.status_code == 201
    return response.json()


def test_single_event_is_accepted(api):
    _subscribe(api)
    response = api.post("/api/v1/events", event(), format="json")
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "deliveries": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at is not None


def test_event_is_kept_as_sent(api):
    sent = event(custom={"nested": [1, 2]}, requestPayload={"campaign": "x"})
    api.post("/api/v1/events", sent, format="json")
    assert Event.objects.get().payload == sent


def test_malformed_json_is_400(api):
    assert _error(_post_raw(api, '{"id": '), 400)["code"] == "malformed_json"


@pytest.mark.parametrize("body", ["[]", "42", '"text"', "null", '{"events": {"id": 1}}', '{"events": []}'])
def test_bodies_that_are_not_events_are_400(api, body):
    assert _error(_post_raw(api, body), 400)["code"] == "invalid_events"
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventName": "card-exploded"}, "eventName"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2026-11-28T10:00:00"}, "timestamp"),
        ({"id": ""}, "id"),
        ({"id": "x" * 129}, "id"),
        ({"test": "yes"}, "test"),
        ({"cardContext": {"cardTemplateId": "c" * 129}}, "cardContext.cardTemplateId"),
    ],
)
def test_a_batch_with_one_bad_event_stores_nothing(api, change, field):
    _subscribe(api)
    batch = [event(), {**event(), **change}, event()]
    error = _error(api.post("/api/v1/events", {"events": batch}, format="json"), 400)
    assert error["code"] == "invalid_events"
    assert list(error["fields"]) == [f"events[1].{field}"]
    assert Event.objects.count() == 0 and Delivery.objects.count() == 0


def test_a_nul_character_is_refused_naming_where_it_is(api):
    _subscribe(api)
    batch = [event(), {**event(), "properties": {"note": "nul\u0000here"}}]
    error = _error(api.post("/api/v1/events", {"events": batch}, format="json"), 400)
    assert error["code"] == "malformed_json" and "events[1].properties.note" in error["message"]
    assert Event.objects.count() == 0


def test_missing_required_fields_are_reported_per_index(api):
    error = _error(api.post("/api/v1/events", {"events": [event(), {"foo": 1}]}, format="json"), 400)
    assert {"events[1].id", "events[1].eventName", "events[1].timestamp"} == set(error["fields"])


@override_settings(OUTFLOW_MAX_EVENT_BYTES=300)
def test_oversize_event_is_413(api):
    response = api.post("/api/v1/events", {"events": [event(), event(blob="x" * 400)]}, format="json")
    assert _error(response, 413)["code"] == "event_too_large"
    assert Event.objects.count() == 0


@override_settings(OUTFLOW_MAX_BATCH=3)
def test_oversize_batch_is_413(api):
    response = api.post("/api/v1/events", {"events": [event() for _ in range(4)]}, format="json")
    assert _error(response, 413)["code"] == "batch_too_large"
    assert Event.objects.count() == 0


@override_settings(OUTFLOW_MAX_REQUEST_BYTES=1000)
def test_oversize_request_is_413_before_parsing(api):
    response = _post_raw(api, json.dumps({"events": [event(blob="x" * 2000)]}))
    assert _error(response, 413)["code"] == "request_too_large"


def test_duplicates_within_and_across_batches(api):
    _subscribe(api)
    first, second = event(), event()
    assert api.post("/api/v1/events", {"events": [first, first]}, format="json").json() == {
        "accepted": 1,
        "duplicates": 1,
        "deliveries": 1,
    }
    assert api.post("/api/v1/events", {"events": [first, second]}, format="json").json() == {
        "accepted": 1,
        "duplicates": 1,
        "deliveries": 1,
    }
    assert Event.objects.count() == 2 and Delivery.objects.count() == 2


def test_the_same_event_id_in_two_environments_is_two_events(api, other_api):
    sent = event()
    api.post("/api/v1/events", sent, format="json")
    assert other_api.post("/api/v1/events", sent, format="json").json()["accepted"] == 1


def test_paused_subscription_gets_skipped_deliveries(api):
    subscription = _subscribe(api)
    api.post(f"/api/v1/subscriptions/{subscription['id']}/pause")
    assert api.post("/api/v1/events", event(), format="json").json()["deliveries"] == 0
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SKIPPED and delivery.attempts == 0
    listed = api.get(f"/api/v1/subscriptions/{subscription['id']}/deliveries?status=skipped").json()
    assert [row["status"] for row in listed["results"]] == ["skipped"]


def test_test_events_fan_out_only_when_export_settings_include_them(api):
    _subscribe(api)
    assert api.post("/api/v1/events", event(test=True), format="json").json()["deliveries"] == 0
    api.patch("/api/v1/export-settings", {"include_test_events": True}, format="json")
    assert api.post("/api/v1/events", event(test=True), format="json").json()["deliveries"] == 1


def test_a_calls_events_and_their_deliveries_are_stamped_in_the_calls_order(api):
    _subscribe(api)
    _subscribe(api)
    sent = [event() for _ in range(6)]

    assert api.post("/api/v1/events", {"events": sent}, format="json").status_code == 202

    assert list(Event.objects.order_by("received_at").values_list("event_id", flat=True)) == [e["id"] for e in sent]
    for subscription_id in set(Delivery.objects.values_list("subscription_id", flat=True)):
        deliveries = Delivery.objects.filter(subscription_id=subscription_id).order_by("created_at")
        assert [delivery.event.event_id for delivery in deliveries] == [e["id"] for e in sent]
        assert all(delivery.created_at == delivery.updated_at for delivery in deliveries)

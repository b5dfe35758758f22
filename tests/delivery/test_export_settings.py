"""Analytics export settings shape what leaves the platform: test events, request payload, card responses."""

import json

import pytest

from delivery.ingest import events_ingest
from subscriptions.services import export_settings_update, subscription_create
from tests.factories import event

FULL = {
    "requestPayload": {"campaign": "x"},
    "properties": {"values": {"rating": 5}, "submittedValues": {"rating": 5}, "layout": "wide"},
}


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )


def _delivered(attempt_pending, environment, receiver, **fields) -> dict | None:
    events_ingest(environment=environment, raw_events=[event(**{**FULL, **fields})])
    attempt_pending()
    received = receiver.received("/hook")
    return json.loads(received[-1].body) if received else None


def test_by_default_request_payload_and_card_responses_are_removed(
    attempt_pending, environment, subscription, receiver
):
    body = _delivered(attempt_pending, environment, receiver)
    assert "requestPayload" not in body
    assert body["properties"] == {"layout": "wide"}


def test_request_payload_is_kept_when_included(attempt_pending, environment, subscription, receiver):
    export_settings_update(environment=environment, include_request_payload=True)
    body = _delivered(attempt_pending, environment, receiver)
    assert body["requestPayload"] == {"campaign": "x"} and body["properties"] == {"layout": "wide"}


def test_card_response_data_is_kept_when_included(attempt_pending, environment, subscription, receiver):
    export_settings_update(environment=environment, include_card_response_data=True)
    body = _delivered(attempt_pending, environment, receiver)
    assert body["properties"] == FULL["properties"] and "requestPayload" not in body


def test_test_events_are_not_delivered_unless_included(attempt_pending, environment, subscription, receiver):
    assert _delivered(attempt_pending, environment, receiver, test=True) is None
    export_settings_update(environment=environment, include_test_events=True)
    body = _delivered(attempt_pending, environment, receiver, test=True)
    assert body["test"] is True


def test_a_mapping_sees_the_event_after_the_export_settings(attempt_pending, environment, subscription, receiver):
    subscription.mapping = "return {hasPayload: 'requestPayload' in event, values: event.properties.values || null};"
    subscription.save()
    assert _delivered(attempt_pending, environment, receiver) == {"hasPayload": False, "values": None}
    export_settings_update(environment=environment, include_request_payload=True, include_card_response_data=True)
    assert _delivered(attempt_pending, environment, receiver) == {"hasPayload": True, "values": {"rating": 5}}

"""The event catalog: a realistic example and a JSON Schema of every platform event type, served by the API."""

import jsonschema
import pytest

from subscriptions.event_catalog import PLATFORM_EVENT_TYPES, event_type_example, event_type_schema

CONTEXTS = ("analyticsEvent", "eventContext", "sdkContext", "streamContext", "cardContext")


@pytest.mark.parametrize("name", sorted(PLATFORM_EVENT_TYPES))
def test_each_type_has_an_example_that_its_schema_accepts(name):
    example = event_type_example(name=name)
    schema = event_type_schema(name=name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(example, schema)
    assert example["eventName"] == name and example["properties"]
    assert {"analyticsEvent", "eventContext"} <= set(example)
    carried = [context for context in CONTEXTS if context in example]
    assert set(carried) <= set(schema["properties"])


@pytest.mark.parametrize("name", sorted(PLATFORM_EVENT_TYPES))
def test_a_schema_requires_only_id_name_and_timestamp_and_allows_unknown_fields(name):
    schema = event_type_schema(name=name)
    jsonschema.validate({"id": "e1", "eventName": name, "timestamp": "2026-11-28T10:00:00Z", "extra": 1}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "e1", "eventName": name}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "e1", "eventName": "card-other", "timestamp": "2026-11-28T10:00:00Z"}, schema)


def test_card_events_carry_the_card_the_platform_names():
    for name in ("card-completed", "card-dismissed", "card-published", "card-expired"):
        card = event_type_example(name=name)["cardContext"]
        assert {"cardInstanceId", "cardTemplateId", "cardInstanceStatus"} <= set(card)
    assert "cardContext" not in event_type_example(name="sdk-initialized")
    assert event_type_example(name="card-completed")["properties"]["values"]["rating"] == 5


def test_an_example_is_a_copy_that_a_caller_may_change():
    event_type_example(name="card-completed")["cardContext"]["cardTemplateId"] = "changed"
    assert event_type_example(name="card-completed")["cardContext"]["cardTemplateId"] == "card-feedback-7"


def test_a_name_outside_the_catalog_gets_the_required_fields_only_and_reads_no_file():
    assert event_type_example(name="../common.schema") == {
        "id": "example-../common.schema",
        "eventName": "../common.schema",
        "timestamp": "2026-11-28T10:00:00.000Z",
    }
    assert set(event_type_schema(name="partner-thing")["properties"]) == {
        "id",
        "eventName",
        "timestamp",
        "endUserId",
        "test",
        "requestPayload",
    }


def test_the_api_serves_each_types_example_and_schema(api):
    response = api.get("/api/v1/event-types")
    assert response.status_code == 200
    by_name = {event_type["name"]: event_type for event_type in response.json()}
    assert set(PLATFORM_EVENT_TYPES) <= set(by_name)
    dismissed = by_name["card-dismissed"]
    assert dismissed["example"]["cardContext"]["cardInstanceStatus"] == "dismissed"
    assert dismissed["schema"]["required"] == ["id", "eventName", "timestamp"]
    jsonschema.validate(dismissed["example"], dismissed["schema"])

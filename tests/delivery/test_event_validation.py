"""Validation of one ingested analytics event."""

import pytest

from delivery.event_validation import MAX_EVENT_ID_LENGTH, event_card, event_errors, has_nul

KNOWN = {"card-completed", "card-dismissed"}


def _event(**fields) -> dict:
    event = {
        "id": "evt_1",
        "eventName": "card-completed",
        "timestamp": "2026-11-28T10:00:00Z",
        "cardContext": {"cardInstanceId": "ci-1", "cardTemplateId": "card-7"},
        "properties": {"values": {"rating": 5}},
    }
    event.update(fields)
    return event


def _without(field: str) -> dict:
    event = _event()
    del event[field]
    return event


def test_valid_event_has_no_errors():
    assert event_errors(_event(), known_names=KNOWN) == {}


def test_minimal_valid_event_has_no_errors():
    event = {"id": "evt_1", "eventName": "card-completed", "timestamp": "2026-11-28T10:00:00+01:00"}

    assert event_errors(event, known_names=KNOWN) == {}


@pytest.mark.parametrize("field", ["id", "eventName", "timestamp"])
def test_missing_required_field_is_reported_on_that_field_only(field):
    errors = event_errors(_without(field), known_names=KNOWN)

    assert list(errors) == [field]


@pytest.mark.parametrize("value", ["", "   ", 42, None])
def test_id_must_be_a_non_empty_string(value):
    assert "id" in event_errors(_event(id=value), known_names=KNOWN)


def test_id_of_the_maximum_length_is_accepted():
    assert event_errors(_event(id="x" * MAX_EVENT_ID_LENGTH), known_names=KNOWN) == {}


def test_id_longer_than_128_characters_is_refused():
    errors = event_errors(_event(id="x" * 129), known_names=KNOWN)

    assert errors == {"id": ["at most 128 characters"]}


def test_unknown_event_name_is_refused():
    errors = event_errors(_event(eventName="card-exploded"), known_names=KNOWN)

    assert list(errors) == ["eventName"]
    assert "card-exploded" in errors["eventName"][0]


def test_event_name_that_is_not_a_string_is_refused():
    assert "eventName" in event_errors(_event(eventName=7), known_names=KNOWN)


def test_timestamp_without_a_time_zone_is_refused():
    errors = event_errors(_event(timestamp="2026-11-28T10:00:00"), known_names=KNOWN)

    assert list(errors) == ["timestamp"]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T10:00:00Z", "", 1764324000, None])
def test_garbage_timestamp_is_refused(value):
    assert list(event_errors(_event(timestamp=value), known_names=KNOWN)) == ["timestamp"]


def test_timestamp_with_an_offset_is_accepted():
    assert event_errors(_event(timestamp="2026-11-28T10:00:00.123-05:00"), known_names=KNOWN) == {}


@pytest.mark.parametrize("value", [True, False])
def test_boolean_test_flag_is_accepted(value):
    assert event_errors(_event(test=value), known_names=KNOWN) == {}


@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_test_flag_that_is_not_a_boolean_is_refused(value):
    assert list(event_errors(_event(test=value), known_names=KNOWN)) == ["test"]


@pytest.mark.parametrize("value", ["card-7", ["card-7"], 5])
def test_card_context_that_is_not_an_object_is_refused(value):
    assert list(event_errors(_event(cardContext=value), known_names=KNOWN)) == ["cardContext"]


def test_null_card_context_is_accepted():
    assert event_errors(_event(cardContext=None), known_names=KNOWN) == {}


def test_properties_that_are_not_an_object_are_refused():
    assert list(event_errors(_event(properties=[1, 2]), known_names=KNOWN)) == ["properties"]


def test_card_template_id_that_is_not_a_string_is_refused():
    errors = event_errors(_event(cardContext={"cardTemplateId": 7}), known_names=KNOWN)

    assert list(errors) == ["cardContext.cardTemplateId"]


@pytest.mark.parametrize("value", [None, [], "event", 42])
def test_event_that_is_not_an_object_is_refused(value):
    assert event_errors(value, known_names=KNOWN) == {"event": ["must be a JSON object"]}


def test_every_problem_is_reported_at_once():
    event = {"id": "", "eventName": "nope", "timestamp": "never", "test": "yes", "cardContext": "x"}

    assert set(event_errors(event, known_names=KNOWN)) == {"id", "eventName", "timestamp", "test", "cardContext"}


def test_event_card_is_the_card_template_id():
    assert event_card(_event()) == "card-7"


def test_event_card_is_none_without_card_context():
    assert event_card(_without("cardContext")) is None


def test_event_card_is_none_when_card_context_is_not_an_object():
    assert event_card(_event(cardContext="card-7")) is None


def test_event_card_is_none_without_a_card_template_id():
    assert event_card(_event(cardContext={"cardInstanceId": "ci-1"})) is None


def test_the_nul_check_takes_any_depth():
    deep: list = ["a\x00"]
    for _ in range(20_000):
        deep = [deep]
    assert has_nul(deep) and not has_nul([[["fine"]]]) and has_nul({"k\x00": 1})

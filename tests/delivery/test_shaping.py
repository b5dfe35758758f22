"""Shaping of an event by its environment's export settings."""

import copy

from delivery.shaping import shaped_event


def _event() -> dict:
    return {
        "id": "evt_1",
        "eventName": "card-completed",
        "requestPayload": {"raw": "body"},
        "cardContext": {"cardTemplateId": "card-7"},
        "properties": {
            "values": {"rating": 5},
            "submittedValues": {"comment": "great"},
            "resolvedCardTitle": "Survey",
            "subviewLevel": 1,
        },
    }


def test_request_payload_is_removed_unless_included():
    shaped = shaped_event(_event(), include_request_payload=False, include_card_response_data=True)

    assert "requestPayload" not in shaped


def test_request_payload_is_kept_when_included():
    shaped = shaped_event(_event(), include_request_payload=True, include_card_response_data=True)

    assert shaped["requestPayload"] == {"raw": "body"}


def test_card_response_values_are_removed_unless_included():
    shaped = shaped_event(_event(), include_request_payload=True, include_card_response_data=False)

    assert "values" not in shaped["properties"]
    assert "submittedValues" not in shaped["properties"]


def test_other_properties_are_kept_when_card_response_data_is_removed():
    shaped = shaped_event(_event(), include_request_payload=True, include_card_response_data=False)

    assert shaped["properties"] == {"resolvedCardTitle": "Survey", "subviewLevel": 1}


def test_card_response_values_are_kept_when_included():
    shaped = shaped_event(_event(), include_request_payload=True, include_card_response_data=True)

    assert shaped["properties"] == _event()["properties"]


def test_fields_outside_the_export_settings_are_untouched():
    shaped = shaped_event(_event(), include_request_payload=False, include_card_response_data=False)

    assert shaped["id"] == "evt_1"
    assert shaped["eventName"] == "card-completed"
    assert shaped["cardContext"] == {"cardTemplateId": "card-7"}


def test_event_without_request_payload_or_properties_is_shaped_without_error():
    shaped = shaped_event({"id": "evt_2"}, include_request_payload=False, include_card_response_data=False)

    assert shaped == {"id": "evt_2"}


def test_non_object_properties_are_left_as_they_are():
    shaped = shaped_event(
        {"id": "evt_3", "properties": None}, include_request_payload=False, include_card_response_data=False
    )

    assert shaped == {"id": "evt_3", "properties": None}


def test_shaping_never_mutates_its_input():
    event = _event()
    before = copy.deepcopy(event)

    shaped_event(event, include_request_payload=False, include_card_response_data=False)

    assert event == before


def test_shaped_event_is_a_new_dict():
    event = _event()

    shaped = shaped_event(event, include_request_payload=True, include_card_response_data=True)
    shaped["extra"] = 1

    assert shaped is not event
    assert "extra" not in event

"""The fields export_fields.py says the export settings remove are the ones delivery/shaping.py removes."""

import itertools

import pytest

from delivery.shaping import shaped_event
from subscriptions.export_fields import export_removed_paths

EVERYTHING = {
    "id": "evt_1",
    "eventName": "card-completed",
    "requestPayload": {"campaign": "x"},
    "properties": {"values": {"rating": 5}, "submittedValues": {"a": 1}, "cardId": "c"},
    "cardContext": {"cardTemplateId": "card-7"},
}


def _paths(value: object, prefix: tuple = ()) -> set[tuple]:
    if not isinstance(value, dict):
        return {prefix}
    found = {prefix} if prefix else set()
    for key, item in value.items():
        found |= _paths(item, (*prefix, key))
    return found


@pytest.mark.parametrize(("request_payload", "card_response_data"), list(itertools.product([False, True], repeat=2)))
def test_the_removed_paths_are_what_shaping_removes(request_payload, card_response_data):
    shaped = shaped_event(
        EVERYTHING, include_request_payload=request_payload, include_card_response_data=card_response_data
    )
    gone = _paths(EVERYTHING) - _paths(shaped)
    removed = export_removed_paths(
        include_request_payload=request_payload, include_card_response_data=card_response_data
    )
    assert {path for path in gone if not any(path[: len(r)] == r and path != r for r in removed)} == set(removed)

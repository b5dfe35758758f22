"""Shaping of an event by its environment's export settings, before any mapping (pure)."""

CARD_RESPONSE_KEYS = ("values", "submittedValues")


def shaped_event(payload: dict, *, include_request_payload: bool, include_card_response_data: bool) -> dict:
    shaped = dict(payload)
    if not include_request_payload:
        shaped.pop("requestPayload", None)
    properties = shaped.get("properties")
    if not include_card_response_data and isinstance(properties, dict):
        shaped["properties"] = {key: value for key, value in properties.items() if key not in CARD_RESPONSE_KEYS}
    return shaped

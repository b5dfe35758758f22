"""Validation of one ingested analytics event (pure): required fields, types, known name, time."""

from datetime import datetime

MAX_EVENT_ID_LENGTH = 128
MAX_CARD_LENGTH = 128


def _parse_timestamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def event_errors(event, *, known_names: set[str]) -> dict[str, list[str]]:
    """Field → problems; empty when the event is valid."""
    if not isinstance(event, dict):
        return {"event": ["must be a JSON object"]}
    if has_nul(event):
        return {"event": ["must not contain the NUL character (\\u0000)"]}
    errors: dict[str, list[str]] = {}
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        errors["id"] = ["required: a non-empty string"]
    elif len(event_id) > MAX_EVENT_ID_LENGTH:
        errors["id"] = [f"at most {MAX_EVENT_ID_LENGTH} characters"]
    name = event.get("eventName")
    if not isinstance(name, str) or not name:
        errors["eventName"] = ["required: a string"]
    elif name not in known_names:
        errors["eventName"] = [f"unknown event type {name!r}"]
    if "timestamp" not in event:
        errors["timestamp"] = ["required: an ISO 8601 time with a time zone"]
    elif _parse_timestamp(event["timestamp"]) is None:
        errors["timestamp"] = ["must be an ISO 8601 time with a time zone, e.g. 2026-11-28T10:00:00Z"]
    if "test" in event and not isinstance(event["test"], bool):
        errors["test"] = ["must be true or false"]
    for key in ("cardContext", "properties"):
        if key in event and event[key] is not None and not isinstance(event[key], dict):
            errors[key] = ["must be a JSON object"]
    card = (
        (event.get("cardContext") or {}).get("cardTemplateId") if isinstance(event.get("cardContext"), dict) else None
    )
    if card is not None and (not isinstance(card, str) or len(card) > MAX_CARD_LENGTH):
        errors["cardContext.cardTemplateId"] = [f"must be a string of at most {MAX_CARD_LENGTH} characters"]
    return errors


def has_nul(value) -> bool:
    """Whether a NUL character hides anywhere in a JSON value (PostgreSQL cannot store one). Iterative: a value
    nested deeper than the stack allows (one not from the API's parser, which bounds depth) cannot overflow it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item if isinstance(key, str)):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def event_card(event: dict) -> str | None:
    context = event.get("cardContext")
    return context.get("cardTemplateId") if isinstance(context, dict) else None

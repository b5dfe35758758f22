"""Validation of one ingested analytics event (pure): required fields, types, known name, time."""

from datetime import datetime

MAX_EVENT_ID_LENGTH = 128


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
    if card is not None and not isinstance(card, str):
        errors["cardContext.cardTemplateId"] = ["must be a string"]
    return errors


def event_card(event: dict) -> str | None:
    context = event.get("cardContext")
    return context.get("cardTemplateId") if isinstance(context, dict) else None

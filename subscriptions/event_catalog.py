"""The platform's analytics event types (seeded into EventType by a data migration), with an example and a JSON Schema
of each."""

import copy
import json
from functools import cache
from pathlib import Path

PLATFORM_EVENT_TYPES: dict[str, str] = {
    "card-published": "A card was published to its audience.",
    "card-displayed": "A card was shown to an end user.",
    "card-completed": "An end user completed a card.",
    "card-dismissed": "An end user dismissed a card.",
    "card-snoozed": "An end user snoozed a card.",
    "card-unsnoozed": "A snoozed card came back.",
    "card-cancelled": "A card was cancelled.",
    "card-expired": "A card expired.",
    "card-embargoed": "A card became embargoed.",
    "card-error": "A card failed to render or submit.",
    "card-voted-up": "An end user voted a card up.",
    "card-voted-down": "An end user voted a card down.",
    "card-subview-displayed": "A card subview was shown.",
    "card-subview-exited": "An end user left a card subview.",
    "user-redirected": "An end user followed a link from a card.",
    "notification-received": "A push notification reached a device.",
    "sdk-initialized": "The SDK started in an app.",
    "stream-displayed": "A card stream was shown.",
    "runtime-vars-updated": "Runtime variables of a card were updated.",
    "request-failed": "A request from the SDK failed.",
    "video-played": "An end user started a video in a card.",
    "video-completed": "An end user watched a video to its end.",
}

# Each catalog type's example and the schema of its `properties` (event_types/<name>.json), and the fields any event
# may carry (event_types/common.schema.json): data files, read once.
EXAMPLES_DIR = Path(__file__).resolve().parent / "event_types"
REQUIRED_FIELDS = ("id", "eventName", "timestamp")
# Fields every event may carry whatever its type; the contexts a type carries are those in its example.
ALWAYS_KNOWN = ("endUserId", "test", "requestPayload")


@cache
def _common_fields() -> dict:
    fields = json.loads((EXAMPLES_DIR / "common.schema.json").read_text())
    fields.pop("$comment")
    return fields


@cache
def _entry(name: str) -> dict | None:
    path = EXAMPLES_DIR / f"{name}.json"
    # Only catalog names reach the disk: a name is never a path.
    if name not in PLATFORM_EVENT_TYPES or not path.is_file():
        return None
    return json.loads(path.read_text())


def event_type_example(*, name: str) -> dict:
    """A realistic event of this type (a fresh copy); a type outside the platform's catalog gets the three required
    fields only."""
    entry = _entry(name)
    if entry is None:
        return {"id": f"example-{name}", "eventName": name, "timestamp": "2026-11-28T10:00:00.000Z"}
    return copy.deepcopy(entry["example"])


def event_type_schema(*, name: str) -> dict:
    """The JSON Schema of this type's known fields: all optional beyond the three required, unknown ones allowed."""
    common = _common_fields()
    entry = _entry(name)
    carried = [*REQUIRED_FIELDS, *ALWAYS_KNOWN]
    if entry is not None:
        carried += [field for field in entry["example"] if field in common and field not in carried]
    properties = {field: copy.deepcopy(common[field]) for field in carried}
    properties["eventName"] = {**properties["eventName"], "const": name}
    if entry is not None:
        properties["properties"] = copy.deepcopy(entry["properties"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": name,
        "type": "object",
        "required": list(REQUIRED_FIELDS),
        "properties": properties,
        "additionalProperties": True,
    }

"""Built-in example events, for Send test and the mapping preview when no real event exists (pure)."""

import uuid
from datetime import UTC, datetime


def sample_event(*, event_name: str, card: str | None) -> dict:
    return {
        "id": f"test_{uuid.uuid4().hex}",
        "eventName": event_name,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "endUserId": "test-user",
        "test": True,
        "cardContext": {"cardInstanceId": "test-card-instance", "cardTemplateId": card or "test-card"},
        "properties": {"values": {"rating": 5, "comment": "Great"}, "submittedValues": {"rating": 5}},
        "requestPayload": {"source": "send-test"},
    }

"""Built-in example events, for Send test and the mapping preview when no real event exists."""

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


def subscription_sample_event(*, subscription) -> dict:
    """A sample of the subscription's first event type, in its card scope."""
    first_type = subscription.event_types.order_by("name").values_list("name", flat=True).first()
    return sample_event(event_name=first_type, card=subscription.card)

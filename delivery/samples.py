"""Example events of the catalog made ready to send, for Send test and the mapping preview when no real event exists."""

import uuid
from datetime import UTC, datetime

from subscriptions.event_catalog import event_type_example


def sample_event(*, event_name: str, card: str | None) -> dict:
    """The catalog's example of the type with a fresh id and timestamp, marked as a test, in the card's scope."""
    event = event_type_example(name=event_name)
    event["id"] = f"test_{uuid.uuid4().hex}"
    event["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    event["test"] = True
    if card is not None and isinstance(event.get("cardContext"), dict):
        event["cardContext"]["cardTemplateId"] = card
    return event


def subscription_sample_event(*, subscription) -> dict:
    """A sample of the subscription's first event type, in its card scope."""
    first_type = subscription.event_types.order_by("name").values_list("name", flat=True).first()
    return sample_event(event_name=first_type, card=subscription.card)

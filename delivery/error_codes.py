"""Stable machine codes of the delivery app's API errors."""

INVALID_EVENTS = "invalid_events"
EVENT_TOO_LARGE = "event_too_large"
BATCH_TOO_LARGE = "batch_too_large"
REQUEST_TOO_LARGE = "request_too_large"
DELIVERY_NOT_FINAL = "delivery_not_final"

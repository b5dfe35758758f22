"""Send test: one request now, marked as a test, never retried and never pausing; logged unredacted."""

import uuid

from delivery.samples import sample_event
from delivery.services import outgoing_body, outgoing_headers, outgoing_send
from requestlog.models import RequestLog
from requestlog.services import request_log_record
from subscriptions.models import Subscription


def subscription_test_send(*, subscription: Subscription, event: dict | None = None) -> RequestLog:
    if event is None:
        first_type = subscription.event_types.order_by("name").values_list("name", flat=True).first()
        event = sample_event(event_name=first_type, card=subscription.card)
    payload = {**event, "test": True}
    body = outgoing_body(subscription=subscription, payload=payload)
    headers = outgoing_headers(subscription=subscription, message_id=f"test_{uuid.uuid4().hex}", body=body)
    url, headers, exchange = outgoing_send(subscription=subscription, headers=headers, body=body)
    return request_log_record(
        subscription_id=subscription.pk,
        delivery_id=None,
        attempt=1,
        is_test=True,
        method=subscription.method,
        url=url,
        request_headers=headers,
        request_body=body,
        response_status=exchange.status,
        response_headers=exchange.headers,
        response_body=exchange.body,
        response_body_size=exchange.body_size,
        duration_ms=exchange.duration_ms,
        error=exchange.error,
    )

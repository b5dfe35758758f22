"""Send test: one request now (an interactive call, limited), marked as a test, never retried; logged unredacted."""

import uuid

from delivery.outgoing import outgoing_body, outgoing_headers, outgoing_log_entry, outgoing_send
from delivery.samples import sample_event, subscription_sample_event
from mapping.sandbox import MappingError
from outbound.client import Exchange
from requestlog.models import RequestLog
from requestlog.services import request_log_save
from subscriptions.models import Subscription
from subscriptions.selectors import export_settings_of
from subscriptions.services import subscription_signing_secrets
from tenancy.interactive_calls import interactive_call


def subscription_test_send(
    *, subscription: Subscription, event: dict | None = None, event_type: str | None = None
) -> RequestLog:
    """Sends the event given, else the catalog's example of `event_type`, else of the subscription's first type."""
    with interactive_call(environment_id=subscription.environment_id):
        return _test_send(subscription=subscription, event=event, event_type=event_type)


def _test_send(*, subscription: Subscription, event: dict | None, event_type: str | None) -> RequestLog:
    if event is None and event_type is not None:
        event = sample_event(event_name=event_type, card=subscription.card)
    elif event is None:
        event = subscription_sample_event(subscription=subscription)
    export = export_settings_of(environment=subscription.environment)
    try:
        body = outgoing_body(
            payload={**event, "test": True},
            export=export,
            mapping=subscription.mapping,
            environment_id=subscription.environment_id,
        )
    except MappingError as error:
        return _not_sent(subscription, f"mapping error: {error}")
    if body is None:
        return _not_sent(subscription, "skipped by mapping: it returned null or undefined, so nothing was sent")
    headers = outgoing_headers(
        subscription=subscription,
        signing_secrets=subscription_signing_secrets(subscription=subscription),
        message_id=f"test_{uuid.uuid4().hex}",
        body=body,
    )
    url, headers, exchange = outgoing_send(subscription=subscription, headers=headers, body=body)
    entry = outgoing_log_entry(
        subscription=subscription,
        delivery_id=None,
        attempt=1,
        is_test=True,
        url=url,
        headers=headers,
        body=body,
        exchange=exchange,
    )
    return request_log_save(entry=entry)


def _not_sent(subscription: Subscription, error: str) -> RequestLog:
    entry = outgoing_log_entry(
        subscription=subscription,
        delivery_id=None,
        attempt=1,
        is_test=True,
        url=subscription.url,
        headers={},
        body=b"",
        exchange=Exchange(error=error),
    )
    return request_log_save(entry=entry)

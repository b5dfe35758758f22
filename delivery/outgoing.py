"""The outgoing request of a delivery or a test: shaped body, signed headers, credential, send, log row."""

import json
import logging
import time
import uuid

from django.conf import settings

from credentials.request_auth import CredentialError, request_authenticate, request_refused
from delivery.shaping import shaped_event
from delivery.signing import signature_header
from mapping.sandbox import MappingResult, MappingTimeout, mapping_run
from outbound.client import Exchange, send, without_headers
from requestlog.models import RequestLog
from requestlog.services import request_log_entry
from subscriptions.models import ExportSettings, Subscription

logger = logging.getLogger(__name__)

USER_AGENT = f"Outflow-Webhooks/{settings.OUTFLOW_VERSION}"
MAPPING_RETRY_FACTOR = 4


def export_shaped(*, payload: dict, export: ExportSettings) -> dict:
    """The event as the environment's export settings let it leave (what a mapping sees)."""
    return shaped_event(
        payload,
        include_request_payload=export.include_request_payload,
        include_card_response_data=export.include_card_response_data,
    )


def outgoing_body(*, payload: dict, export: ExportSettings, mapping: str | None) -> bytes | None:
    """The shaped, mapped event as compact UTF-8 JSON; None when the mapping skips it. Raises MappingError."""
    output = export_shaped(payload=payload, export=export)
    if mapping:
        result = _mapped(script=mapping, event=output)
        if result.skipped:
            return None
        output = result.output
    return json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode()


def _mapped(*, script: str, event: dict) -> MappingResult:
    """A timeout is tried once more, at once, with MAPPING_RETRY_FACTOR times the limit: a worker busy with other
    batches can stall a script that fits the limit. Only a second timeout is final, like any mapping error."""
    limit = settings.OUTFLOW_MAPPING_TIMEOUT_MS
    try:
        return mapping_run(script=script, event=event, timeout_ms=limit)
    except MappingTimeout:
        return mapping_run(script=script, event=event, timeout_ms=limit * MAPPING_RETRY_FACTOR)


def outgoing_headers(
    *, subscription: Subscription, signing_secrets: list[str], message_id: str, body: bytes
) -> dict[str, str]:
    timestamp = int(time.time())
    own = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets=signing_secrets, message_id=message_id, timestamp=timestamp, body=body
        ),
    }
    return {**without_headers(subscription.headers, own), **own}


def outgoing_send(
    *, subscription: Subscription, headers: dict[str, str], body: bytes
) -> tuple[str, dict[str, str], Exchange]:
    """Authenticate with the subscription's credential (last, over what is sent), then send."""
    url = subscription.url
    credential = subscription.credential
    if credential is not None:
        try:
            url, headers = request_authenticate(
                credential=credential, method=subscription.method, url=url, headers=headers, body=body
            )
        except CredentialError as error:
            return url, headers, Exchange(error=str(error))
        except Exception:
            logger.exception("subscription %s: applying its credential failed", subscription.pk)
            return url, headers, Exchange(error="internal error while applying the credential (logged)")
    exchange = send(
        method=subscription.method,
        url=url,
        headers=headers,
        body=body,
        timeout=settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS,
    )
    if credential is not None:
        request_refused(credential=credential, status=exchange.status)
    return url, headers, exchange


def outgoing_log_entry(
    *,
    subscription: Subscription,
    delivery_id: uuid.UUID | None,
    attempt: int,
    is_test: bool,
    url: str,
    headers: dict[str, str],
    body: bytes,
    exchange: Exchange,
) -> RequestLog:
    return request_log_entry(
        subscription_id=subscription.pk,
        delivery_id=delivery_id,
        attempt=attempt,
        is_test=is_test,
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

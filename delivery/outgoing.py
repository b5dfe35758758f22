"""The outgoing request of a delivery or a test: shaped body, signed headers, credential, send, log row."""

import logging
import time
import uuid

from django.conf import settings

from config.json_bytes import json_bytes
from credentials.request_auth import CredentialError, request_authenticate, request_refused
from credentials.tls import credential_client_tls
from delivery.rate_limit import subscription_permit_take
from delivery.shaping import shaped_event
from mapping.sandbox import mapping_run_each
from outbound.client import USER_AGENT, Exchange, header_value, send, without_headers
from outbound.signing import signature_header
from requestlog.services import RequestLogRow, request_log_entry
from subscriptions.models import ExportSettings, Subscription

logger = logging.getLogger(__name__)


def export_shaped(*, payload: dict, export: ExportSettings) -> dict:
    """The event as the environment's export settings let it leave (what a mapping sees)."""
    return shaped_event(
        payload,
        include_request_payload=export.include_request_payload,
        include_card_response_data=export.include_card_response_data,
    )


def outgoing_bodies(
    *, payloads: list[dict], export: ExportSettings, mapping: str | None, environment_id: object
) -> list[bytes | None | Exception]:
    """Each event shaped and mapped, as compact UTF-8 JSON; None where the mapping skips it, else the error.

    A batch's events are mapped in one round trip to a sandbox process. A MappingError is the script's doing; any
    other exception is the sandbox's (the delivery is retried).
    """
    shaped = [export_shaped(payload=payload, export=export) for payload in payloads]
    outcomes = mapping_run_each(script=mapping, events=shaped, environment_id=environment_id) if mapping else shaped
    return [_encoded(outcome, mapped=bool(mapping)) for outcome in outcomes]


def outgoing_body(
    *, payload: dict, export: ExportSettings, mapping: str | None, environment_id: object
) -> bytes | None:
    """One event shaped, mapped and encoded; None when the mapping skips it. Raises MappingError."""
    (body,) = outgoing_bodies(payloads=[payload], export=export, mapping=mapping, environment_id=environment_id)
    if isinstance(body, Exception):
        raise body
    return body


def _encoded(outcome, *, mapped: bool) -> bytes | None | Exception:
    if isinstance(outcome, Exception):
        return outcome
    if mapped:
        if outcome.skipped:
            return None
        outcome = outcome.output
    return json_bytes(outcome)


def _content_type(headers: dict[str, str]) -> str:
    """The content type a subscription's headers name (a JSON media type, validated on save), else application/json."""
    given = header_value(headers, "content-type")
    return given if given is not None else "application/json"


def outgoing_headers(
    *, subscription: Subscription, signing_secrets: list[str], message_id: str, body: bytes
) -> dict[str, str]:
    timestamp = int(time.time())
    own = {
        "content-type": _content_type(subscription.headers),
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
    """Authenticate with the subscription's credential (last, over what is sent), take a permit of its rate limit,
    then send (Send test's one request: a test counts against the limit that protects the endpoint like any other)."""
    url, headers, refused = outgoing_authenticate(subscription=subscription, headers=headers, body=body)
    if refused is not None:
        return url, headers, refused
    if held := subscription_permit_take(subscription=subscription):
        error = (
            f"not sent: the subscription's rate limit of {subscription.rate_limit}/s (or the endpoint's"
            f" Retry-After) allows no request for {held.wait:.1f} s"
        )
        return url, headers, Exchange(error=error)
    return url, headers, outgoing_exchange(subscription=subscription, url=url, headers=headers, body=body)


def outgoing_authenticate(
    *, subscription: Subscription, headers: dict[str, str], body: bytes
) -> tuple[str, dict[str, str], Exchange | None]:
    """The URL and headers with the subscription's credential applied over what is sent; the third value is the
    failed exchange to record when the credential could not be applied (None when it was)."""
    url = subscription.url
    credential = subscription.credential
    if credential is None:
        return url, headers, None
    try:
        url, headers = request_authenticate(
            credential=credential,
            method=subscription.method,
            url=url,
            headers=headers,
            body=body,
            tls_credential=subscription.tls_credential,
        )
    except CredentialError as error:
        return url, headers, Exchange(error=str(error), proxy_failed=error.proxy_failed)
    except Exception:
        logger.exception("subscription %s: applying its credential failed", subscription.pk)
        return url, headers, Exchange(error="internal error while applying the credential (logged)")
    return url, headers, None


def outgoing_exchange(*, subscription: Subscription, url: str, headers: dict[str, str], body: bytes) -> Exchange:
    """Send an authenticated request, with the subscription's TLS credential; a refusal of the credential (401) drops
    its cached token."""
    exchange = send(
        method=subscription.method,
        url=url,
        headers=headers,
        body=body,
        timeout=settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS,
        tls=credential_client_tls(subscription.tls_credential),
    )
    if subscription.credential is not None:
        request_refused(
            credential=subscription.credential, status=exchange.status, tls_credential=subscription.tls_credential
        )
    return exchange


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
) -> RequestLogRow:
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

"""Delivery attempts and their outcomes, the sweeper, and recovery of failed and skipped deliveries."""

import json
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.errors import ApiError
from credentials.request_auth import CredentialError, request_authenticate, request_refused
from delivery.models import Delivery
from delivery.queueing import deliveries_enqueue
from delivery.retry import retry_after_seconds, retry_delay
from delivery.shaping import shaped_event
from delivery.signing import signature_header
from outbound.client import Exchange, send
from requestlog.services import request_log_record
from subscriptions import error_codes as subscription_error_codes
from subscriptions.models import Subscription
from subscriptions.selectors import export_settings_of
from subscriptions.services import subscription_pause_by_id, subscription_signing_secrets

logger = logging.getLogger(__name__)

USER_AGENT = f"Outflow-Webhooks/{settings.OUTFLOW_VERSION}"
_CLAIMABLE = (Delivery.Status.PENDING, Delivery.Status.RETRYING)
# A task may fire a little before next_attempt_at (clocks of broker and database differ slightly).
_EARLY_TOLERANCE = timedelta(seconds=1)
_RETRY_AFTER_STATUSES = {429, 503}


def _lease_seconds() -> float:
    return settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS + settings.OUTFLOW_LEASE_MARGIN_SECONDS


def delivery_claim(*, delivery_id) -> Delivery | None:
    """Take the next attempt of a due delivery; only one worker can win it (a conditional update)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=_CLAIMABLE, next_attempt_at__lte=now + _EARLY_TOLERANCE
    ).update(
        status=Delivery.Status.SENDING,
        attempts=F("attempts") + 1,
        queued=False,
        lease_expires_at=now + timedelta(seconds=_lease_seconds()),
        updated_at=now,
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("event", "subscription__environment", "subscription__credential").get(
        pk=delivery_id
    )


def outgoing_body(*, subscription: Subscription, payload: dict) -> bytes:
    """The event shaped by its environment's export settings, as compact UTF-8 JSON."""
    export = export_settings_of(environment=subscription.environment)
    payload = shaped_event(
        payload,
        include_request_payload=export.include_request_payload,
        include_card_response_data=export.include_card_response_data,
    )
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def outgoing_headers(*, subscription: Subscription, message_id: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        **subscription.headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets=subscription_signing_secrets(subscription=subscription),
            message_id=message_id,
            timestamp=timestamp,
            body=body,
        ),
    }


def delivery_attempt(*, delivery_id) -> None:
    """Claim, send, log and record one attempt of a delivery; a lost claim means another worker has it."""
    delivery = delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return
    subscription = delivery.subscription
    if subscription.status != Subscription.Status.ACTIVE:
        _finish(delivery, status=Delivery.Status.SKIPPED, error="subscription paused", attempts=delivery.attempts - 1)
        return
    body = outgoing_body(subscription=subscription, payload=delivery.event.payload)
    headers = outgoing_headers(subscription=subscription, message_id=str(delivery.pk), body=body)
    url, headers, exchange = outgoing_send(subscription=subscription, headers=headers, body=body)
    request_log_record(
        subscription_id=subscription.pk,
        delivery_id=delivery.pk,
        attempt=delivery.attempts,
        is_test=False,
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
    delivery_outcome_record(delivery=delivery, exchange=exchange)


def outgoing_send(*, subscription: Subscription, headers: dict[str, str], body: bytes):
    """Authenticate with the subscription's credential (last, over what is sent), send: (url, headers, exchange)."""
    url = subscription.url
    credential = subscription.credential
    if credential is not None:
        try:
            url, headers = request_authenticate(
                credential=credential, method=subscription.method, url=url, headers=headers, body=body
            )
        except CredentialError as error:
            return url, headers, Exchange(error=str(error))
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


def _failure_message(exchange: Exchange) -> str:
    return exchange.error or f"endpoint answered {exchange.status}"


def delivery_outcome_record(*, delivery: Delivery, exchange: Exchange) -> None:
    """2xx succeeds; anything else is retried after the back-off, or fails and may pause the subscription."""
    if exchange.status is not None and 200 <= exchange.status < 300:
        _finish(delivery, status=Delivery.Status.SUCCEEDED, status_code=exchange.status)
        return
    retry_after = None
    if exchange.status in _RETRY_AFTER_STATUSES:
        retry_after = retry_after_seconds(exchange.headers.get("Retry-After"), now=timezone.now())
    delivery_failure_record(
        delivery=delivery, error=_failure_message(exchange), status_code=exchange.status, retry_after=retry_after
    )


def delivery_failure_record(
    *, delivery: Delivery, error: str, status_code: int | None = None, retry_after: float | None = None
) -> None:
    subscription = delivery.subscription
    if delivery.attempts > subscription.max_retries:
        if _finish(delivery, status=Delivery.Status.FAILED, status_code=status_code, error=error):
            _final_failure(delivery=delivery, error=error)
        return
    delay = retry_delay(
        delivery.attempts,
        base=settings.OUTFLOW_RETRY_BASE_SECONDS,
        max_delay=settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS,
        retry_after=retry_after,
    )
    # Short waits ride the broker as a countdown; long ones stay rows the sweeper wakes when due.
    countdown = delay if delay <= settings.OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS else None
    updated = _in_flight(delivery).update(
        status=Delivery.Status.RETRYING,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        queued=countdown is not None,
        lease_expires_at=None,
        last_status_code=status_code,
        last_error=error,
        updated_at=timezone.now(),
    )
    if updated and countdown is not None:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=[delivery.pk], countdown=countdown))


def _in_flight(delivery: Delivery):
    """The delivery, only while it is still the attempt this worker claimed."""
    return Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts)


def _finish(
    delivery: Delivery, *, status: str, status_code: int | None = None, error: str = "", attempts: int | None = None
) -> bool:
    now = timezone.now()
    changes = {
        "status": status,
        "last_status_code": status_code,
        "last_error": error,
        "lease_expires_at": None,
        "next_attempt_at": None,
        "completed_at": now,
        "updated_at": now,
    }
    if attempts is not None:
        changes["attempts"] = attempts
    return bool(_in_flight(delivery).update(**changes))


def _final_failure(*, delivery: Delivery, error: str) -> None:
    subscription = delivery.subscription
    if subscription.auto_disable and subscription_pause_by_id(
        subscription_id=subscription.pk,
        reason=f"retries exhausted after {delivery.attempts} attempt{'' if delivery.attempts == 1 else 's'}: {error}",
    ):
        logger.warning("subscription %s paused: retries exhausted", subscription.pk)


def deliveries_sweep() -> dict[str, int]:
    """Beat's safety net: take back expired claims, and wake deliveries that are due but not in the broker."""
    return {"leases_recovered": _leases_recover(), "enqueued": _due_enqueue()}


def _leases_recover() -> int:
    expired = list(
        Delivery.objects.select_related("subscription").filter(
            status=Delivery.Status.SENDING, lease_expires_at__lt=timezone.now()
        )[: settings.OUTFLOW_SWEEP_BATCH]
    )
    for delivery in expired:
        error = "attempt lost: the worker stopped before it finished"
        request_log_record(
            subscription_id=delivery.subscription_id,
            delivery_id=delivery.pk,
            attempt=delivery.attempts,
            is_test=False,
            method=delivery.subscription.method,
            url=delivery.subscription.url,
            request_headers={},
            request_body=b"",
            response_status=None,
            response_headers={},
            response_body=b"",
            response_body_size=0,
            duration_ms=0,
            error=error,
        )
        delivery_failure_record(delivery=delivery, error=error)
    return len(expired)


def _due_enqueue() -> int:
    now = timezone.now()
    grace = now - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status__in=_CLAIMABLE)
            .filter(Q(queued=False, next_attempt_at__lte=now) | Q(queued=True, next_attempt_at__lte=grace))
            .values_list("pk", flat=True)[: settings.OUTFLOW_SWEEP_BATCH]
        )
        Delivery.objects.filter(pk__in=due).update(queued=True, next_attempt_at=now, updated_at=now)
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=due))
    return len(due)


def deliveries_recover(*, subscription: Subscription, since: datetime) -> int:
    """Send again the subscription's failed and skipped deliveries created since a time."""
    if subscription.status != Subscription.Status.ACTIVE:
        raise ApiError(
            subscription_error_codes.SUBSCRIPTION_PAUSED, "resume the subscription before recovering", status_code=409
        )
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update()
            .filter(
                subscription=subscription,
                created_at__gte=since,
                status__in=(Delivery.Status.FAILED, Delivery.Status.SKIPPED),
            )
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            queued=True,
            last_error="",
            last_status_code=None,
            completed_at=None,
            updated_at=now,
        )
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=ids))
    return len(ids)

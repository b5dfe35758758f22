"""Attempting a batch of one subscription's deliveries: claim, send each in turn, log, record outcomes."""

import json
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone
from opentelemetry.trace import SpanKind, Status, StatusCode

from config import tracing
from delivery.claimed import ClaimedDelivery
from delivery.db_clock import datetime_read, now_sql
from delivery.in_flight import (
    circuit_trip,
    endpoint_resting_until,
    in_flight_slot_free,
    in_flight_slot_take,
    subscription_slow_down,
    waiting_mark,
    waiting_take,
)
from delivery.leases import BatchLease, batch_lease_hold, batch_seconds, lease_seconds, slot_seconds
from delivery.models import Delivery, Event
from delivery.outcomes import (
    deliveries_outcome_record,
    deliveries_release,
    deliveries_skip,
    delivery_failure_record,
    is_success,
)
from delivery.outgoing import (
    outgoing_authenticate,
    outgoing_bodies,
    outgoing_exchange,
    outgoing_headers,
    outgoing_log_entry,
)
from delivery.queueing import deliveries_queue
from delivery.rate_limit import PermitRefused, rate_permit_take
from mapping.sandbox import MappingError, SandboxFailure
from outbound.client import Exchange, without_headers
from outbound.retry import retry_after_seconds
from requestlog.models import RequestLog
from requestlog.services import request_logs_store
from subscriptions.delivery_cache import subscription_for_delivery
from subscriptions.models import Subscription
from subscriptions.services import subscription_signing_secrets

logger = logging.getLogger(__name__)

CLAIMABLE = (Delivery.Status.PENDING, Delivery.Status.RETRYING)
# A task may fire a little before next_attempt_at (a countdown runs on the broker's and worker's clocks).
_EARLY_TOLERANCE = timedelta(seconds=1)


def deliveries_claim(*, subscription: Subscription, delivery_ids: Iterable) -> list[ClaimedDelivery]:
    """Take the next attempt of the subscription's due deliveries among these; rows another worker holds are skipped.

    The claimed deliveries come back oldest first, with their event's payload and their lease. One statement (lock,
    update, read back), written as SQL: the ORM's lock-then-update took four round trips and ~2 ms of CPU compiling
    per batch (measured). Lease and due times are the database's clock, the one the sweeper reads.
    """
    ids = [Delivery._meta.pk.get_db_prep_value(pk, connection) for pk in delivery_ids]
    if not ids:
        return []
    lock = connection.ops.for_update_sql(skip_locked=True) if connection.features.has_select_for_update else ""
    table = Delivery._meta.db_table
    lease, lease_params = now_sql(plus_seconds=lease_seconds(subscription=subscription))
    now, now_params = now_sql()
    due, due_params = now_sql(plus_seconds=_EARLY_TOLERANCE.total_seconds())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, queued = %s, lease_expires_at = {lease},"
            f" updated_at = {now} WHERE id IN (SELECT id FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})"
            f" AND subscription_id = %s AND status IN (%s, %s) AND next_attempt_at <= {due} {lock})"
            f" RETURNING id, attempts, created_at, lease_expires_at,"
            f" (SELECT payload FROM {Event._meta.db_table} e WHERE e.id = {table}.event_id)",
            [
                Delivery.Status.SENDING,
                False,
                *lease_params,
                *now_params,
                *ids,
                Delivery._meta.pk.get_db_prep_value(subscription.pk, connection),
                *CLAIMABLE,
                *due_params,
            ],
        )
        rows = cursor.fetchall()
    return [
        ClaimedDelivery(
            pk=Delivery._meta.pk.to_python(pk),
            subscription=subscription,
            attempts=attempts,
            lease_expires_at=datetime_read(lease_expires_at),
            payload=json.loads(payload),
        )
        for pk, attempts, _, lease_expires_at, payload in sorted(rows, key=lambda row: row[2])
    ]


def deliveries_attempt(*, subscription_id, delivery_ids: list) -> None:
    """Attempt a batch within the subscription's in-flight limit; over the limit, the batch waits as rows."""
    slot = in_flight_slot_take(subscription_id=subscription_id, seconds=slot_seconds())
    if slot is None:
        # The batch that next frees a slot (or else the sweeper) sends these.
        Delivery.objects.filter(pk__in=delivery_ids, status__in=CLAIMABLE, queued=True).update(queued=False)
        waiting_mark(subscription_id=subscription_id)
        return
    try:
        subscription = subscription_for_delivery(subscription_id=subscription_id)
        # Taken before the claim's statement, so the batch's deadline is never later than the lease the row holds.
        claimed_at = time.monotonic()
        with tracing.span("outflow.claim") as span:
            deliveries = deliveries_claim(subscription=subscription, delivery_ids=delivery_ids) if subscription else []
            if span.is_recording():
                span.set_attributes(
                    {
                        "outflow.subscription_id": str(subscription_id),
                        "outflow.deliveries": len(delivery_ids),
                        "outflow.claimed": len(deliveries),
                    }
                )
        held_back = False
        if deliveries:
            lease = BatchLease(slot=slot, runs_out=claimed_at + lease_seconds(subscription=subscription))
            held_back = _attempt(subscription=subscription, deliveries=deliveries, lease=lease)
    finally:
        in_flight_slot_free(slot=slot)
    if not held_back:
        # A batch held back by the rate limit or a slow-down leaves the waiting ones be: they would be held too.
        _waiting_wake(subscription_id=subscription_id)


def _waiting_wake(*, subscription_id) -> None:
    """Send the next batch of the subscription's due deliveries that wait for a free slot."""
    if not waiting_take(subscription_id=subscription_id):
        return
    waiting = Delivery.objects.filter(
        subscription_id=subscription_id, status__in=CLAIMABLE, queued=False, next_attempt_at__lte=Now()
    )
    if deliveries_queue(due=waiting, limit=settings.OUTFLOW_DELIVERY_BATCH) == settings.OUTFLOW_DELIVERY_BATCH:
        waiting_mark(subscription_id=subscription_id)


def _attempt(*, subscription: Subscription, deliveries: list[ClaimedDelivery], lease: BatchLease) -> bool:
    """Send the batch; whether the endpoint's circuit, a slow-down or the rate limit held some of it back."""
    if subscription.status != Subscription.Status.ACTIVE:
        deliveries_skip(deliveries=deliveries, reason="subscription paused")
        return False
    if resting := endpoint_resting_until(subscription_id=subscription.pk):
        # Its circuit is open or it asked for a slow-down: the batch waits as rows until then.
        deliveries_release(deliveries=deliveries, until=resting, as_rows=True)
        return True
    export = subscription.environment.export_settings
    signing_secrets = subscription_signing_secrets(subscription=subscription)
    results, entries, failures, skips, untried = [], [], [], [], []
    # When the rest may go, if the rate limit or a slow-down stopped the batch, and whether they come back as a task.
    resumes, wakes = None, True
    bodies = _bodies(subscription=subscription, deliveries=deliveries, export=export)
    # Mapping took its time already; the lease is renewed before a send when it runs short (batch_lease_hold).
    deadline = time.monotonic() + batch_seconds() - settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS
    for index, (delivery, body) in enumerate(zip(deliveries, bodies, strict=True)):
        if index and time.monotonic() > deadline:
            untried = deliveries[index:]
            break
        if isinstance(body, Exception):
            error, final = _not_built(delivery, body)
            failures.append((delivery, error, final))
            entries.append(_unsent_entry(subscription, delivery, error))
            continue
        if body is None:
            skips.append(delivery)
            continue
        if not batch_lease_hold(lease=lease, subscription=subscription, deliveries=deliveries):
            untried = deliveries[index:]
            break
        with tracing.span("outflow.request", kind=SpanKind.CLIENT) as span:
            if span.is_recording():
                _request_traced(span, subscription, delivery)
            headers = outgoing_headers(
                subscription=subscription, signing_secrets=signing_secrets, message_id=str(delivery.pk), body=body
            )
            if subscription.send_traceparent and (traceparent := tracing.traceparent_header()):
                headers = {**without_headers(headers, traceparent), **traceparent}
            url, headers, exchange = outgoing_authenticate(subscription=subscription, headers=headers, body=body)
            if exchange is None:
                # The permit is taken last, just before the request leaves, so little lies between the two.
                if refused := _permit_refused(subscription):
                    span.set_attribute("outflow.rate_limited", True)
                    untried = deliveries[index:]
                    resumes, wakes = timezone.now() + timedelta(seconds=refused.wait), refused.wakes
                    break
                exchange = outgoing_exchange(subscription=subscription, url=url, headers=headers, body=body)
            if span.is_recording():
                _exchange_traced(span, exchange)
        entries.append(_log_entry(subscription, delivery, url=url, headers=headers, body=body, exchange=exchange))
        results.append((delivery, exchange))
        if exchange.status is None:
            # No answer at all (timeout, refused, TLS, credential): the rest of the batch would fare the same.
            untried = deliveries[index + 1 :]
            break
        if resumes := _slow_down_asked(subscription, exchange):
            untried = deliveries[index + 1 :]
            break
    request_logs_store(entries=entries)
    next_attempts = deliveries_outcome_record(results=results)
    for delivery, error, final in failures:
        delivery_failure_record(delivery=delivery, error=error, final=final)
    if skips:
        deliveries_skip(deliveries=skips, reason="skipped by mapping: it returned null or undefined")
    reopens = None
    if results and results[-1][1].status is None:
        # No answer: the rest, and the batches behind them, wait as long as the delivery that failed.
        reopens = next_attempts.get(results[-1][0].pk)
        if reopens:
            circuit_trip(subscription_id=subscription.pk, until=reopens)
    if untried and resumes is not None:
        # Over the rate limit, or slowed down: no attempt counted; the rest come back when they may go, as one task
        # if this batch is the one that wakes then, else as rows that the next batch to finish (or the sweeper) sends.
        deliveries_release(deliveries=untried, until=resumes, as_rows=not wakes)
        if not wakes:
            waiting_mark(subscription_id=subscription.pk)
        return True
    if untried:
        # Behind an open circuit they wait as rows; otherwise (out of time, a claim lost, or the one that failed
        # was its last attempt and opened no circuit) they go again at once.
        deliveries_release(deliveries=untried, until=reopens, as_rows=reopens is not None)
    return False


def _permit_refused(subscription: Subscription) -> PermitRefused | None:
    """None when the request may go now (a permit of its rate limit taken, or no limit)."""
    if subscription.rate_limit is None:
        return None
    return rate_permit_take(subscription_id=subscription.pk, rate_limit=subscription.rate_limit)


def _slow_down_asked(subscription: Subscription, exchange: Exchange) -> datetime | None:
    """A 429 with Retry-After slows the whole subscription down for that long (at most the longest back-off): when
    it may be sent to again, or None."""
    if exchange.status != 429:
        return None
    seconds = retry_after_seconds(exchange.headers.get("Retry-After"), now=timezone.now())
    if not seconds:
        return None
    seconds = min(seconds, settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS)
    return subscription_slow_down(subscription_id=subscription.pk, seconds=seconds)


def _bodies(*, subscription: Subscription, deliveries: list[ClaimedDelivery], export) -> list:
    """The batch's bodies, mapped in one round trip; where building them failed as a whole, that error for each."""
    with tracing.span("outflow.mapping") as span:
        try:
            bodies = outgoing_bodies(
                payloads=[delivery.payload for delivery in deliveries],
                export=export,
                mapping=subscription.mapping,
                tenant=subscription.environment_id,
            )
        except Exception as error:
            logger.exception("subscription %s: building a batch's payloads failed", subscription.pk)
            bodies = [error] * len(deliveries)
        if span.is_recording():
            # Counts only: a mapping's error message may quote the event it failed on.
            span.set_attributes(
                {
                    "outflow.subscription_id": str(subscription.pk),
                    "outflow.deliveries": len(deliveries),
                    "outflow.mapped": bool(subscription.mapping),
                    "outflow.skipped": sum(body is None for body in bodies),
                    "outflow.failed": sum(isinstance(body, Exception) for body in bodies),
                }
            )
        return bodies


def _request_traced(span, subscription: Subscription, delivery: ClaimedDelivery) -> None:
    """Whose attempt a request's span is and where it goes. Of the URL only scheme, host and port (a path or query
    may hold a token, an OAuth secret or a SigV4 signature); never a header or the body."""
    target = urlsplit(subscription.url)
    span.set_attributes(
        {
            "outflow.subscription_id": str(subscription.pk),
            "outflow.delivery_id": str(delivery.pk),
            "outflow.attempt": delivery.attempts,
            "http.request.method": subscription.method,
            "url.scheme": target.scheme,
            "server.address": target.hostname or "",
            "server.port": target.port or (443 if target.scheme == "https" else 80),
        }
    )


def _exchange_traced(span, exchange: Exchange) -> None:
    """How a request went: its status, never the error's text (a token endpoint's answer may be quoted in it: the
    request log has it, masked)."""
    if exchange.status is not None:
        span.set_attribute("http.response.status_code", exchange.status)
    if not is_success(exchange):
        span.set_attribute("error.type", str(exchange.status) if exchange.status is not None else "no_response")
        span.set_status(Status(StatusCode.ERROR))


def _not_built(delivery: ClaimedDelivery, failure: Exception) -> tuple[str, bool]:
    """Why a delivery's body could not be built, as its error, and whether that failure is final."""
    if isinstance(failure, MappingError):
        # Retrying cannot change what the script does with this event: final at once.
        return f"mapping error: {failure}", True
    if isinstance(failure, SandboxFailure):
        return f"mapping sandbox: {failure}; retried", False
    logger.error("delivery %s: building the payload failed: %s", delivery.pk, failure)
    return "internal error while building the payload (logged); retried", False


def _unsent_entry(subscription: Subscription, delivery: ClaimedDelivery, error: str) -> RequestLog:
    return _log_entry(
        subscription, delivery, url=subscription.url, headers={}, body=b"", exchange=Exchange(error=error)
    )


def _log_entry(subscription: Subscription, delivery: ClaimedDelivery, *, url, headers, body, exchange) -> RequestLog:
    return outgoing_log_entry(
        subscription=subscription,
        delivery_id=delivery.pk,
        attempt=delivery.attempts,
        is_test=False,
        url=url,
        headers=headers,
        body=body,
        exchange=exchange,
    )

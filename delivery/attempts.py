"""Attempting a claimed batch of one subscription's deliveries: map, send each in turn, log, record the outcomes.

Phases with small typed results: the bodies are built (`_bodies`), the requests sent (`_batch_send` → `BatchResult`),
then the log rows and outcomes stored in one transaction (`_batch_record` → `BatchEnd`, which tells the drain whether
to go on).
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from opentelemetry.trace import SpanKind, Status, StatusCode

from config import tracing
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable
from delivery.claimed import ClaimedDelivery
from delivery.coordination import coordination
from delivery.leases import BatchLease, batch_lease_hold, batch_seconds
from delivery.outcomes import (
    deliveries_outcome_record,
    deliveries_release,
    deliveries_skip,
    delivery_failure_record,
    is_success,
    mapping_failures_record,
)
from delivery.outgoing import (
    outgoing_authenticate,
    outgoing_bodies,
    outgoing_exchange,
    outgoing_headers,
    outgoing_log_entry,
)
from delivery.rate_limit import subscription_permit_take
from delivery.subscription_lock import subscriptions_kept
from delivery.wakes import Deferral
from mapping.sandbox import MappingError, SandboxFailure
from outbound.client import Exchange, without_headers
from outbound.retry import retry_after_seconds
from requestlog.services import RequestLogRow, request_logs_store
from subscriptions.models import Subscription
from subscriptions.services import subscription_signing_secrets

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchEnd:
    """What the drain learns from a batch: whether it may go on claiming, and the wait that stops it if one does."""

    go_on: bool
    deferral: Deferral | None = None


def batch_attempt(*, subscription: Subscription, deliveries: list[ClaimedDelivery], lease: BatchLease) -> BatchEnd:
    """Attempt a claimed batch (a paused subscription's are skipped) and record what became of each delivery."""
    if subscription.status != Subscription.Status.ACTIVE:
        deliveries_skip(deliveries=deliveries, reason="subscription paused")
        return BatchEnd(go_on=True)
    bodies = _bodies(subscription=subscription, deliveries=deliveries, export=subscription.environment.export_settings)
    result = _batch_send(subscription=subscription, deliveries=deliveries, bodies=bodies, lease=lease)
    return _batch_record(subscription=subscription, result=result)


@dataclass(frozen=True, slots=True)
class Sent:
    """A request that left, and how the endpoint answered (or that it did not)."""

    delivery: ClaimedDelivery
    exchange: Exchange
    log_entry: RequestLogRow


@dataclass(frozen=True, slots=True)
class Unsent:
    """A delivery whose body could not be built: why, and whether that is final."""

    delivery: ClaimedDelivery
    error: str
    final: bool


@dataclass(slots=True)
class BatchResult:
    """What became of each claimed delivery of a batch: sent, unsent (no body), skipped by the mapping, or untried
    (handed back, with the `deferral` that stopped the batch if a wait is why), and the request log's entries in
    order."""

    sent: list[Sent] = field(default_factory=list)
    unsent: list[Unsent] = field(default_factory=list)
    skipped: list[ClaimedDelivery] = field(default_factory=list)
    untried: list[ClaimedDelivery] = field(default_factory=list)
    deferral: Deferral | None = None
    log_entries: list[RequestLogRow] = field(default_factory=list)
    # For each delivery whose body was built or whose mapping failed, in claim order: whether it was mapped.
    mapped: list[bool] = field(default_factory=list)

    @property
    def unanswered(self) -> Sent | None:
        """The request that got no answer at all (the batch stops at it), if one did."""
        last = self.sent[-1] if self.sent else None
        return last if last is not None and last.exchange.status is None else None


def _batch_send(
    *, subscription: Subscription, deliveries: list[ClaimedDelivery], bodies: list, lease: BatchLease
) -> BatchResult:
    """Send the batch in turn, stopping where sending the rest would not help, would break a limit, or (ordered)
    would overtake a delivery that did not go."""
    result = BatchResult()
    signing_secrets = subscription_signing_secrets(subscription=subscription)
    # Mapping took its time already; the lease is renewed before a send when it runs short (batch_lease_hold).
    deadline = time.monotonic() + batch_seconds() - settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS
    for index, (delivery, body) in enumerate(zip(deliveries, bodies, strict=True)):
        if index and time.monotonic() > deadline:
            result.untried = deliveries[index:]
            break
        if isinstance(body, Exception):
            unsent = _not_built(delivery, body)
            result.unsent.append(unsent)
            if unsent.final:
                result.mapped.append(False)
            result.log_entries.append(_unsent_entry(subscription, unsent))
            if subscription.ordered and not unsent.final:
                result.untried = deliveries[index + 1 :]
                break
            continue
        result.mapped.append(True)
        if body is None:
            result.skipped.append(delivery)
            continue
        if not batch_lease_hold(lease=lease, subscription=subscription, deliveries=deliveries):
            result.untried = deliveries[index:]
            break
        sent = _request_send(subscription, delivery, body=body, signing_secrets=signing_secrets)
        if isinstance(sent, Deferral):
            result.untried, result.deferral = deliveries[index:], sent
            break
        result.sent.append(sent)
        result.log_entries.append(sent.log_entry)
        if sent.exchange.status is None:
            # No answer at all (timeout, refused, TLS, credential): the rest of the batch would fare the same.
            result.untried = deliveries[index + 1 :]
            break
        if slow_down := _slow_down_asked(subscription, sent.exchange):
            result.untried, result.deferral = deliveries[index + 1 :], slow_down
            break
        if subscription.ordered and not is_success(sent.exchange):
            # Nothing behind a delivery that failed goes before it succeeds or fails for good.
            result.untried = deliveries[index + 1 :]
            break
    return result


def _request_send(
    subscription: Subscription, delivery: ClaimedDelivery, *, body: bytes, signing_secrets
) -> Sent | Deferral:
    """Sign, authenticate and send one request; or the wait, when the rate limit refused it a permit."""
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
            if refused := subscription_permit_take(subscription=subscription):
                span.set_attribute("outflow.rate_limited", True)
                return Deferral(seconds=refused.wait, reason="rate_limit")
            exchange = outgoing_exchange(subscription=subscription, url=url, headers=headers, body=body)
        if exchange.proxy_failed:
            # The egress proxy's failure, not the endpoint's: no attempt counts and no circuit opens.
            return Deferral(seconds=settings.OUTFLOW_PROXY_RETRY_SECONDS, reason="egress_proxy")
        if span.is_recording():
            _exchange_traced(span, exchange)
    entry = _log_entry(subscription, delivery, url=url, headers=headers, body=body, exchange=exchange)
    return Sent(delivery=delivery, exchange=exchange, log_entry=entry)


def _batch_record(*, subscription: Subscription, result: BatchResult) -> BatchEnd:
    """Store the batch's request log and outcomes in one transaction, and hand back what was not tried (no attempt
    counted, due as it was). A subscription deleted meanwhile takes its deliveries with it: nothing is stored."""
    with transaction.atomic():
        if not subscriptions_kept(subscription_ids=[subscription.pk]):
            return BatchEnd(go_on=False)
        request_logs_store(entries=result.log_entries)
        next_attempts = deliveries_outcome_record(results=[(sent.delivery, sent.exchange) for sent in result.sent])
        for unsent in result.unsent:
            delivery_failure_record(delivery=unsent.delivery, error=unsent.error, final=unsent.final)
        if subscription.mapping:
            _mapping_failures_record(subscription, result)
        if result.skipped:
            deliveries_skip(deliveries=result.skipped, reason="skipped by mapping: it returned null or undefined")
        if result.untried:
            deliveries_release(deliveries=result.untried)
    if result.deferral:
        return BatchEnd(go_on=False, deferral=result.deferral)
    if (unanswered := result.unanswered) and (reopens := next_attempts.get(unanswered.delivery.pk)):
        # No answer: the rest of the subscription's deliveries wait as long as the one that failed.
        _circuit_trip(subscription, until=reopens)
        return BatchEnd(go_on=False, deferral=Deferral(seconds=_seconds_until(reopens), reason="endpoint_unreachable"))
    # Out of time, a claim lost, or no answer on a last attempt: the drain goes to the back of the queue. An ordered
    # subscription's drain goes on: its next claim stops at the delivery that failed, unless that one is final.
    return BatchEnd(go_on=not result.untried or (subscription.ordered and result.unanswered is None))


def _mapping_failures_record(subscription: Subscription, result: BatchResult) -> None:
    """The batch's deliveries failed by the mapping, and how many of them in a row after the last it mapped."""
    if not result.mapped:
        return
    failed = result.mapped.count(False)
    # The failures after the last delivery it mapped.
    in_a_row = len(result.mapped) - max((i + 1 for i, mapped in enumerate(result.mapped) if mapped), default=0)
    errors = [unsent.error for unsent in result.unsent if unsent.final]
    mapping_failures_record(
        subscription=subscription,
        failed=failed,
        in_a_row=in_a_row,
        mapped=any(result.mapped),
        error=errors[-1] if errors else "",
    )


def _seconds_until(moment: datetime) -> float:
    return max(0.0, (moment - timezone.now()).total_seconds())


def _circuit_trip(subscription: Subscription, *, until: datetime) -> None:
    try:
        coordination().circuit_trip(subscription_id=subscription.pk, until=until)
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="an unreachable endpoint's circuit (its drains try it again at once)")


def _slow_down_asked(subscription: Subscription, exchange: Exchange) -> Deferral | None:
    """A 429 with Retry-After slows the whole subscription down for that long (at most the longest back-off)."""
    if exchange.status != 429:
        return None
    seconds = retry_after_seconds(exchange.header("Retry-After"), now=timezone.now())
    if not seconds:
        return None
    seconds = min(seconds, settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS)
    try:
        coordination().slow_down(subscription_id=subscription.pk, until=timezone.now() + timedelta(seconds=seconds))
    except CACHE_ERRORS as error:
        # This drain still stops; the endpoint tells the others with its own 429s.
        shared_cache_unreachable(error, what="a 429's slow-down of the whole subscription")
    return Deferral(seconds=seconds, reason="endpoint_slow_down")


def _bodies(*, subscription: Subscription, deliveries: list[ClaimedDelivery], export) -> list:
    """The batch's bodies, mapped in one round trip; where building them failed as a whole, that error for each."""
    with tracing.span("outflow.mapping") as span:
        try:
            bodies = outgoing_bodies(
                payloads=[delivery.payload for delivery in deliveries],
                export=export,
                mapping=subscription.mapping,
                environment_id=subscription.environment_id,
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


def _not_built(delivery: ClaimedDelivery, failure: Exception) -> Unsent:
    """Why a delivery's body could not be built, and whether that failure is final."""
    if isinstance(failure, MappingError):
        # Retrying cannot change what the script does with this event: final at once.
        return Unsent(delivery=delivery, error=f"mapping error: {failure}", final=True)
    if isinstance(failure, SandboxFailure):
        return Unsent(delivery=delivery, error=f"mapping sandbox: {failure}; retried", final=False)
    logger.error("delivery %s: building the payload failed: %s", delivery.pk, failure)
    return Unsent(delivery=delivery, error="internal error while building the payload (logged); retried", final=False)


def _unsent_entry(subscription: Subscription, unsent: Unsent) -> RequestLogRow:
    return _log_entry(
        subscription,
        unsent.delivery,
        url=subscription.url,
        headers={},
        body=b"",
        exchange=Exchange(error=unsent.error),
    )


def _log_entry(subscription: Subscription, delivery: ClaimedDelivery, *, url, headers, body, exchange) -> RequestLogRow:
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

"""Attempting a batch of one subscription's deliveries: claim, send each in turn, log, record outcomes."""

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone
from opentelemetry.trace import SpanKind, Status, StatusCode

from config import tracing
from config.shared_cache import CACHE_ERRORS
from delivery.claimed import ClaimedDelivery
from delivery.db_clock import datetime_read, now_sql
from delivery.in_flight import (
    InFlightSlot,
    circuit_trip,
    endpoint_resting_until,
    in_flight_slot_extend,
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
from delivery.queueing import deliveries_enqueue, deliveries_queue
from delivery.rate_limit import PermitRefused, RateRoom, rate_room, subscription_permit_take
from delivery.value_lists import one_of_sql
from delivery.waiting_batches import waiting_batch_pop, waiting_batch_push
from mapping.sandbox import MappingError, SandboxFailure
from outbound.client import Exchange, without_headers
from outbound.retry import retry_after_seconds
from requestlog.services import RequestLogRow, request_logs_store
from subscriptions.delivery_cache import subscription_for_delivery
from subscriptions.models import Subscription
from subscriptions.services import subscription_signing_secrets

logger = logging.getLogger(__name__)

CLAIMABLE = (Delivery.Status.PENDING, Delivery.Status.RETRYING)
# A task may fire a little before next_attempt_at (a countdown runs on the broker's and worker's clocks).
_EARLY_TOLERANCE = timedelta(seconds=1)
# How long a batch in flight goes on taking on the batches waiting for a slot of its subscription: long enough to
# spare them the task's round trip, short enough that other tenants' tasks behind it in the queue wait little.
TAKE_ON_SECONDS = 1.0


def deliveries_claim(
    *, subscription: Subscription, delivery_ids: Iterable, limit: int | None = None
) -> list[ClaimedDelivery]:
    """Take the next attempt of the subscription's due deliveries among these (the `limit` oldest of them, if given);
    rows another worker holds are skipped.

    The claimed deliveries come back oldest first, with their event's payload and their lease. One statement (lock,
    update, read back), written as SQL: the ORM's lock-then-update took four round trips and ~2 ms of CPU compiling
    per batch (measured). Lease and due times are the database's clock, the one the sweeper reads.
    """
    ids = [Delivery._meta.pk.get_db_prep_value(pk, connection) for pk in delivery_ids]
    if not ids or limit == 0:
        return []
    lock = connection.ops.for_update_sql(skip_locked=True) if connection.features.has_select_for_update else ""
    table = Delivery._meta.db_table
    lease, lease_params = now_sql(plus_seconds=lease_seconds(subscription=subscription))
    now, now_params = now_sql()
    due, due_params = now_sql(plus_seconds=_EARLY_TOLERANCE.total_seconds())
    oldest, oldest_params = ("ORDER BY created_at LIMIT %s", [limit]) if limit is not None else ("", [])
    among, among_params = one_of_sql("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, queued = %s, lease_expires_at = {lease},"
            f" updated_at = {now} WHERE id IN (SELECT id FROM {table} WHERE {among}"
            f" AND subscription_id = %s AND status IN (%s, %s) AND next_attempt_at <= {due} {oldest} {lock})"
            # Times as text: a loaded time costs ~2.6 us of Python each, and every row has the same lease.
            f" RETURNING id, attempts, CAST(created_at AS TEXT), CAST(lease_expires_at AS TEXT),"
            f" (SELECT payload FROM {Event._meta.db_table} e WHERE e.id = {table}.event_id)",
            [
                Delivery.Status.SENDING,
                False,
                *lease_params,
                *now_params,
                *among_params,
                Delivery._meta.pk.get_db_prep_value(subscription.pk, connection),
                *CLAIMABLE,
                *due_params,
                *oldest_params,
            ],
        )
        rows = cursor.fetchall()
    leases = {lease: datetime_read(lease) for lease in {row[3] for row in rows}}
    # Creation times of one clock and offset, as text, sort as the times do (PostgreSQL leaves out a fraction's
    # trailing zeros, and "+" sorts before any digit).
    return [
        ClaimedDelivery(
            pk=Delivery._meta.pk.to_python(pk),
            subscription=subscription,
            attempts=attempts,
            lease_expires_at=leases[lease],
            payload=json.loads(payload),
        )
        for pk, attempts, _, lease, payload in sorted(rows, key=lambda row: row[2])
    ]


def deliveries_attempt(*, subscription_id, delivery_ids: list) -> None:
    """Attempt a batch within the subscription's in-flight limit, then, in the same slot, the batches that found
    every slot taken meanwhile. Over the limit, the batch waits for one in flight to take it on."""
    slot = in_flight_slot_take(subscription_id=subscription_id, seconds=slot_seconds())
    if slot is None:
        slot = _waiting_join(subscription_id=subscription_id, delivery_ids=delivery_ids)
        if slot is None:
            return
        # This batch waits with the others now: the slot takes on the oldest first.
        delivery_ids = []
    held_back = False
    try:
        if delivery_ids:
            held_back = _batch_run(subscription_id=subscription_id, delivery_ids=delivery_ids, slot=slot)
        if not held_back:
            held_back = _waiting_batches_run(subscription_id=subscription_id, slot=slot)
    finally:
        in_flight_slot_free(slot=slot)
        # After the slot is free (so that a task finds one), and whatever became of this batch: a batch that joined
        # after the last look waits as rows behind a hold, or else goes on as a task.
        if held_back:
            _waiting_batches_park(subscription_id=subscription_id)
        else:
            _waiting_hand_on(subscription_id=subscription_id)
    if not held_back:
        # A batch held back by the rate limit or a slow-down leaves the waiting ones be: they would be held too.
        _waiting_wake(subscription_id=subscription_id)


def taking_on_stop() -> None:
    """The worker is shutting down: batches in flight take on no waiting batch (their task's own batch finishes)."""
    _stopping.set()


_stopping = threading.Event()


def _waiting_join(*, subscription_id, delivery_ids: list) -> InFlightSlot | None:
    """Make a batch that found every slot taken wait, with the subscription's waiting batches or else as rows. Then
    take a slot freed meanwhile, if there is one: each batch in flight looks for waiting ones before it frees its
    slot, and one that looked just before this batch joined would leave it waiting."""
    if not waiting_batch_push(subscription_id=subscription_id, delivery_ids=delivery_ids):
        _waiting_park(subscription_id=subscription_id, delivery_ids=delivery_ids)
        return None
    return in_flight_slot_take(subscription_id=subscription_id, seconds=slot_seconds())


def _waiting_park(*, subscription_id, delivery_ids: list) -> None:
    """Make a batch wait as rows for a free slot: the batch that next frees one (or else the sweeper) sends them."""
    Delivery.objects.filter(pk__in=delivery_ids, status__in=CLAIMABLE, queued=True).update(queued=False)
    waiting_mark(subscription_id=subscription_id)


def _waiting_batches_run(*, subscription_id, slot: InFlightSlot) -> bool:
    """Send the batches waiting for a slot of the subscription in this one, oldest first, starting none after
    `TAKE_ON_SECONDS`, so that the thread goes back to the queue, where other tenants' work waits. Whether the rate
    limit or a slow-down held one back (those still waiting would be held too: the caller parks them as rows).

    Taking the waiting batches on here costs no task and no write to their rows, where sending them as tasks cost
    one write to park each row and one to queue it again, and each woken task could find every slot taken again."""
    stops_taking_on = time.monotonic() + TAKE_ON_SECONDS
    while time.monotonic() < stops_taking_on and not _stopping.is_set():
        # The slot outlasts the next batch, or it was lost (or Redis cannot say): its holder sends what waits.
        try:
            if not in_flight_slot_extend(slot=slot, seconds=slot_seconds()):
                return False
        except CACHE_ERRORS:
            return False
        waiting = waiting_batch_pop(subscription_id=subscription_id)
        if not waiting:
            return False
        try:
            if _batch_run(subscription_id=subscription_id, delivery_ids=waiting, slot=slot):
                return True
        except Exception:
            # Not this task's own batch, so its task does not fail for it: its rows are queued still, or claimed
            # (the sweeper sends them again after the requeue grace, or takes the claim back when its lease ends).
            logger.exception("subscription %s: a batch taken on from those waiting failed", subscription_id)
            return False
    return False


def _waiting_batches_park(*, subscription_id) -> None:
    """Every batch waiting in Redis for a slot of the subscription waits as rows instead."""
    while waiting := waiting_batch_pop(subscription_id=subscription_id):
        _waiting_park(subscription_id=subscription_id, delivery_ids=waiting)


def _waiting_hand_on(*, subscription_id) -> None:
    """The oldest batch still waiting goes on as a task (its rows are queued already): one left when this batch
    stopped taking them on, or one that joined after it last looked."""
    if waiting := waiting_batch_pop(subscription_id=subscription_id):
        deliveries_enqueue(due=[(subscription_id, pk) for pk in waiting])


def _batch_run(*, subscription_id, delivery_ids: list, slot) -> bool:
    """Claim what may go of the batch and attempt it; whether the rate limit or the endpoint held some of it back."""
    subscription = subscription_for_delivery(subscription_id=subscription_id)
    if subscription is None:
        return False
    room = _rate_room(subscription, delivery_ids)
    # Taken before the claim's statement, so the batch's deadline is never later than the lease the row holds.
    claimed_at = time.monotonic()
    with tracing.span("outflow.claim") as span:
        deliveries = deliveries_claim(
            subscription=subscription, delivery_ids=delivery_ids, limit=room.requests if room else None
        )
        if span.is_recording():
            span.set_attributes(
                {
                    "outflow.subscription_id": str(subscription_id),
                    "outflow.deliveries": len(delivery_ids),
                    "outflow.claimed": len(deliveries),
                }
            )
    held_by_limit = room is not None and room.rest is not None
    if held_by_limit:
        # Those just claimed are `sending` now: the put-off leaves them alone with every other row not waiting.
        _unclaimed_put_off(subscription_id=subscription_id, delivery_ids=delivery_ids, refusal=room.rest)
    if not deliveries:
        return held_by_limit
    lease = BatchLease(slot=slot, runs_out=claimed_at + lease_seconds(subscription=subscription))
    return _attempt(subscription=subscription, deliveries=deliveries, lease=lease) or held_by_limit


def _rate_room(subscription: Subscription, delivery_ids: list) -> RateRoom | None:
    """Under a rate limit, how many of the batch may go now; None when every one may."""
    if subscription.rate_limit is None or subscription.status != Subscription.Status.ACTIVE:
        return None
    return rate_room(subscription_id=subscription.pk, rate_limit=subscription.rate_limit, ready=len(delivery_ids))


def _unclaimed_put_off(*, subscription_id, delivery_ids: list, refusal: PermitRefused) -> None:
    """The part of a batch the rate limit left unclaimed (no attempt counted): due when a permit frees, back then as
    one countdown task if this batch is the one that wakes (and the wait is short enough to ride the broker), else as
    rows marked waiting. Only rows still waiting their turn are put off: a task may name deliveries that are finished,
    held by another claim, or due later (a retry's back-off), which must neither come back nor go early."""
    if not delivery_ids:
        return
    as_task = refusal.wakes and refusal.wait <= settings.OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS
    table = Delivery._meta.db_table
    among, among_params = one_of_sql("id", [Delivery._meta.pk.get_db_prep_value(pk, connection) for pk in delivery_ids])
    until, until_params = now_sql(plus_seconds=refusal.wait)
    now, now_params = now_sql()
    due, due_params = now_sql(plus_seconds=_EARLY_TOLERANCE.total_seconds())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET queued = %s, next_attempt_at = {until}, updated_at = {now}"
            f" WHERE {among} AND status IN (%s, %s) AND queued AND next_attempt_at <= {due} RETURNING id",
            [
                as_task,
                *until_params,
                *now_params,
                *among_params,
                *CLAIMABLE,
                *due_params,
            ],
        )
        put_off = [Delivery._meta.pk.to_python(pk) for (pk,) in cursor.fetchall()]
    if not put_off:
        return
    if as_task:
        due_pairs = [(subscription_id, pk) for pk in put_off]
        transaction.on_commit(lambda: deliveries_enqueue(due=due_pairs, countdown=refusal.wait))
    else:
        waiting_mark(subscription_id=subscription_id)


def _waiting_wake(*, subscription_id) -> None:
    """Send the next batch of the subscription's due deliveries that wait for a free slot."""
    if not waiting_take(subscription_id=subscription_id):
        return
    waiting = Delivery.objects.filter(
        subscription_id=subscription_id, status__in=CLAIMABLE, queued=False, next_attempt_at__lte=Now()
    )
    if deliveries_queue(due=waiting, limit=settings.OUTFLOW_DELIVERY_BATCH) == settings.OUTFLOW_DELIVERY_BATCH:
        waiting_mark(subscription_id=subscription_id)


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


@dataclass(frozen=True, slots=True)
class Hold:
    """The rate limit or a 429's slow-down stopped the batch: when the rest may go, and whether they come back then
    as a task (one batch per wait does; the others wait as rows)."""

    until: datetime
    wakes: bool


@dataclass(slots=True)
class BatchResult:
    """What became of each claimed delivery of a batch: sent, unsent (no body), skipped by the mapping, or untried
    (handed back, with `hold` if the rate limit or a slow-down is why), and the request log's entries in order."""

    sent: list[Sent] = field(default_factory=list)
    unsent: list[Unsent] = field(default_factory=list)
    skipped: list[ClaimedDelivery] = field(default_factory=list)
    untried: list[ClaimedDelivery] = field(default_factory=list)
    hold: Hold | None = None
    log_entries: list[RequestLogRow] = field(default_factory=list)

    @property
    def unanswered(self) -> Sent | None:
        """The request that got no answer at all (the batch stops at it), if one did."""
        last = self.sent[-1] if self.sent else None
        return last if last is not None and last.exchange.status is None else None


def _attempt(*, subscription: Subscription, deliveries: list[ClaimedDelivery], lease: BatchLease) -> bool:
    """Send the batch; whether the endpoint's circuit, a slow-down or the rate limit held some of it back."""
    if subscription.status != Subscription.Status.ACTIVE:
        deliveries_skip(deliveries=deliveries, reason="subscription paused")
        return False
    if resting := endpoint_resting_until(subscription_id=subscription.pk):
        # Its circuit is open or it asked for a slow-down: the batch waits as rows until then.
        deliveries_release(deliveries=deliveries, until=resting, as_rows=True)
        return True
    bodies = _bodies(subscription=subscription, deliveries=deliveries, export=subscription.environment.export_settings)
    result = _batch_send(subscription=subscription, deliveries=deliveries, bodies=bodies, lease=lease)
    return _batch_record(subscription=subscription, result=result)


def _batch_send(
    *, subscription: Subscription, deliveries: list[ClaimedDelivery], bodies: list, lease: BatchLease
) -> BatchResult:
    """Send the batch in turn, stopping where sending the rest would not help or would break a limit."""
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
            result.log_entries.append(_unsent_entry(subscription, unsent))
            continue
        if body is None:
            result.skipped.append(delivery)
            continue
        if not batch_lease_hold(lease=lease, subscription=subscription, deliveries=deliveries):
            result.untried = deliveries[index:]
            break
        sent = _request_send(subscription, delivery, body=body, signing_secrets=signing_secrets)
        if isinstance(sent, Hold):
            result.untried, result.hold = deliveries[index:], sent
            break
        result.sent.append(sent)
        result.log_entries.append(sent.log_entry)
        if sent.exchange.status is None:
            # No answer at all (timeout, refused, TLS, credential): the rest of the batch would fare the same.
            result.untried = deliveries[index + 1 :]
            break
        if slowed_until := _slow_down_asked(subscription, sent.exchange):
            result.untried, result.hold = deliveries[index + 1 :], Hold(until=slowed_until, wakes=True)
            break
    return result


def _request_send(
    subscription: Subscription, delivery: ClaimedDelivery, *, body: bytes, signing_secrets
) -> Sent | Hold:
    """Sign, authenticate and send one request; or the hold, when the rate limit refused it a permit."""
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
                return Hold(until=timezone.now() + timedelta(seconds=refused.wait), wakes=refused.wakes)
            exchange = outgoing_exchange(subscription=subscription, url=url, headers=headers, body=body)
        if exchange.proxy_failed:  # the egress proxy's failure, not the endpoint's: no attempt counts, no circuit opens
            return Hold(until=timezone.now() + timedelta(seconds=settings.OUTFLOW_PROXY_RETRY_SECONDS), wakes=True)
        if span.is_recording():
            _exchange_traced(span, exchange)
    entry = _log_entry(subscription, delivery, url=url, headers=headers, body=body, exchange=exchange)
    return Sent(delivery=delivery, exchange=exchange, log_entry=entry)


def _batch_record(*, subscription: Subscription, result: BatchResult) -> bool:
    """Store the batch's request log and outcomes, and hand back what was not tried; whether it was held back."""
    request_logs_store(entries=result.log_entries)
    next_attempts = deliveries_outcome_record(results=[(sent.delivery, sent.exchange) for sent in result.sent])
    for unsent in result.unsent:
        delivery_failure_record(delivery=unsent.delivery, error=unsent.error, final=unsent.final)
    if result.skipped:
        deliveries_skip(deliveries=result.skipped, reason="skipped by mapping: it returned null or undefined")
    if result.hold:
        # No attempt counted: the rest come back when they may go, as one task if this batch is the one that wakes
        # then, else as rows that the next batch to finish (or the sweeper) sends.
        deliveries_release(deliveries=result.untried, until=result.hold.until, as_rows=not result.hold.wakes)
        if not result.hold.wakes:
            waiting_mark(subscription_id=subscription.pk)
        return True
    reopens = None
    if (unanswered := result.unanswered) and (reopens := next_attempts.get(unanswered.delivery.pk)):
        # No answer: the rest, and the batches behind them, wait as long as the delivery that failed.
        circuit_trip(subscription_id=subscription.pk, until=reopens)
    if result.untried:
        # Behind an open circuit they wait as rows; otherwise (out of time, a claim lost, or the one that failed
        # was its last attempt and opened no circuit) they go again at once.
        deliveries_release(deliveries=result.untried, until=reopens, as_rows=reopens is not None)
    return False


def _slow_down_asked(subscription: Subscription, exchange: Exchange) -> datetime | None:
    """A 429 with Retry-After slows the whole subscription down for that long (at most the longest back-off): when
    it may be sent to again, or None."""
    if exchange.status != 429:
        return None
    seconds = retry_after_seconds(exchange.header("Retry-After"), now=timezone.now())
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

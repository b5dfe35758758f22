"""A subscription's drain: the only thing that sends. It carries no delivery ids and may run any number of times.

It takes one of its subscription's in-flight slots (one for an ordered subscription), or returns: a drain already
runs in each. Holding it, it loops: check what holds the endpoint (an open circuit, a slow-down, the rate limit) →
claim the oldest due deliveries (delivery/claims.py) → send and record them (delivery/attempts.py), until nothing is
due or its time slice is spent. Then it frees the slot, and publishes its successor if work is left or a drain woken
while it ran found no free slot: the successor waits behind every other subscription's drain already queued, which
keeps subscriptions and tenants fair.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from config import tracing
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from delivery import claims
from delivery.attempts import batch_attempt
from delivery.coordination import coordination
from delivery.coordination.base import Slot
from delivery.leases import BatchLease, lease_seconds, slot_seconds
from delivery.rate_limit import rate_room
from delivery.wakes import Deferral, deferral_record, subscription_wake_again, subscriptions_wake
from subscriptions.delivery_cache import subscription_for_delivery
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DrainEnd:
    """Why a drain stopped: nothing was due, a wait holds the subscription (`deferral`), or work is left (`more`:
    its time slice was spent, or a batch was cut short)."""

    more: bool = False
    deferral: Deferral | None = None


def subscription_drain(*, subscription_id) -> DrainEnd | None:
    """Drain the subscription's due deliveries for one time slice; None when no slot was free (or it is gone)."""
    subscription = subscription_for_delivery(subscription_id=subscription_id)
    if subscription is None:
        return None
    slot = _slot_take(subscription)
    if slot is None:
        return None
    try:
        end = _drain(subscription=subscription, slot=slot)
    finally:
        woken = _slot_free(slot)
    if end.more or woken:
        subscription_wake_again(subscription_id=subscription.pk)
    elif end.deferral is not None:
        deferral_record(subscription_id=subscription.pk, deferral=end.deferral)
    return end


def drain_slots(subscription: Subscription) -> int:
    """How many drains of the subscription may run at once."""
    return 1 if subscription.ordered else settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION


def _drain(*, subscription: Subscription, slot: Slot) -> DrainEnd:
    slice_ends = time.monotonic() + settings.OUTFLOW_DRAIN_SLICE_SECONDS
    first = True
    while True:
        if not first:
            # Read again each batch after the first, which uses the one just read (cached by version): a pause or an
            # edit applies from the next batch on.
            subscription = subscription_for_delivery(subscription_id=subscription.pk)
            if subscription is None:
                return DrainEnd()
        if slot.rest is not None:
            # The endpoint's circuit is open, or it asked for a slow-down (read with the slot).
            return DrainEnd(
                deferral=Deferral(seconds=slot.rest.until.timestamp() - time.time(), reason=slot.rest.reason)
            )
        limit = settings.OUTFLOW_DELIVERY_BATCH
        if subscription.rate_limit is not None and subscription.status == Subscription.Status.ACTIVE:
            room = rate_room(subscription_id=subscription.pk, rate_limit=subscription.rate_limit, ready=limit)
            if room.requests == 0:
                return DrainEnd(deferral=Deferral(seconds=room.rest.wait, reason="rate_limit"))
            limit = room.requests
        # Taken before the claim's statement, so the batch's deadline is never later than the lease the row holds.
        claimed_at = time.monotonic()
        claim = _claim(subscription, limit=limit)
        deliveries = claim.deliveries
        if not deliveries:
            return DrainEnd()
        if (
            first
            and claim.more
            and len(deliveries) == settings.OUTFLOW_DELIVERY_BATCH
            and drain_slots(subscription) > 1
        ):
            # A backlog (more than a full batch, not held back by the rate limit): another drain may join this one, up
            # to the in-flight limit (each one that starts asks again).
            subscriptions_wake(subscription_ids=[subscription.pk])
        first = False
        lease = BatchLease(slot=slot, runs_out=claimed_at + lease_seconds(subscription=subscription))
        end = batch_attempt(subscription=subscription, deliveries=deliveries, lease=lease)
        if end.deferral is not None:
            return DrainEnd(deferral=end.deferral)
        if end.go_on and not claim.more and not subscription.ordered:
            # Nothing else was due but what other drains hold. What comes due later wakes the subscription (ingest,
            # recover, resend; the sweeper for a back-off), so no last claim that finds nothing.
            return DrainEnd()
        if not end.go_on or time.monotonic() >= slice_ends:
            return DrainEnd(more=True)
        slot = _slot_extend(slot)
        if slot is None:
            return DrainEnd(more=True)


def _claim(subscription: Subscription, *, limit: int) -> claims.Claim:
    claim = claims.ordered_deliveries_claim if subscription.ordered else claims.deliveries_claim
    with tracing.span("outflow.claim") as span:
        claimed = claim(subscription=subscription, limit=limit, lease_seconds=lease_seconds(subscription=subscription))
        if span.is_recording():
            span.set_attributes(
                {
                    "outflow.subscription_id": str(subscription.pk),
                    "outflow.ordered": subscription.ordered,
                    "outflow.claimed": len(claimed.deliveries),
                }
            )
    return claimed


def _slot_take(subscription: Subscription) -> Slot | None:
    if not shared_cache_usable():
        return None
    try:
        return coordination().slot_take(
            subscription_id=subscription.pk, slots=drain_slots(subscription), seconds=slot_seconds()
        )
    except CACHE_ERRORS as error:
        # No slot, no drain: the rows wait (the sweeper wakes them once the cache answers).
        shared_cache_unreachable(error, what="in-flight slots (deliveries wait for the cache)")
        return None


def _slot_extend(slot: Slot) -> Slot | None:
    try:
        return coordination().slot_extend(slot=slot, seconds=slot_seconds())
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="in-flight slots")
        return None


def _slot_free(slot: Slot) -> bool:
    """Free the slot; whether a drain found no free slot meanwhile (or the cache cannot say)."""
    try:
        return coordination().slot_free(slot=slot)
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="in-flight slots")
        return True

"""Waking a subscription's drain: publishing `subscription_drain` tasks, which carry a subscription id and nothing else.

A wake is a hint. The rows say what is due; a wake that is lost (the broker down, a worker killed) delays the
subscription until the sweeper wakes it, and never loses a delivery.
"""

import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from kombu.exceptions import KombuError

from config import tracing
from config.celery import app
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from delivery.coordination import coordination

logger = logging.getLogger(__name__)

DRAIN_TASK = "delivery.tasks.subscription_drain"
# After a failed publish, how long this process leaves the broker alone (the sweeper wakes what it could not).
BROKER_HOLD_OFF_SECONDS = 5.0
# A wake after a countdown runs by the worker's clock, the rows are due by the database's: it comes this much late, so
# that it finds them due (one that comes early finds nothing, and they wait for the sweeper).
COUNTDOWN_LATE_SECONDS = 0.05

_broker_failed_at: float | None = None


@dataclass(frozen=True, slots=True)
class Deferral:
    """Why a subscription's due deliveries wait although a drain could run, and for how long: the endpoint's circuit
    is open (`endpoint_unreachable`), it asked for a slow-down (`endpoint_slow_down`), the rate limit has no permit
    (`rate_limit`), the egress proxy failed (`egress_proxy`), or a retry's back-off (`back_off`). The rows are not
    written for it: the wait is in the keys or in their own `next_attempt_at`."""

    seconds: float
    reason: str


def deferral_record(*, subscription_id, deferral: Deferral) -> None:
    """The one place a wait is recorded: none wakes the subscription now (debounced), a short one after its
    countdown; a longer one is left to the sweeper, so that nothing long rides the broker (0 bytes of worker memory
    per waiting retry)."""
    if deferral.seconds <= 0:
        subscriptions_wake(subscription_ids=[subscription_id])
    elif deferral.seconds <= settings.OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS:
        _publish([subscription_id], countdown=deferral.seconds + COUNTDOWN_LATE_SECONDS)


def subscriptions_wake(*, subscription_ids: Iterable, own_traces: bool = False) -> list:
    """Ask for a drain of each subscription, unless one is asked for already and has not started (a debounce: a burst
    of ingest calls publishes one task per subscription, not one per call); those asked for. With `own_traces` (the
    sweeper's, whose wakes are many tenants'), each task starts a trace of its own."""
    wanted = [subscription_id for subscription_id in subscription_ids if _wake_claim(subscription_id)]
    if wanted:
        _publish(wanted, own_traces=own_traces)
    return wanted


def subscription_wake_again(*, subscription_id) -> None:
    """A drain that stops with work left, or that learned of a wake while it ran, publishes its successor (not
    debounced: the wake that came in may belong to a task that already ran and found no free slot)."""
    _publish([subscription_id])


def _wake_claim(subscription_id) -> bool:
    if not shared_cache_usable():
        return True
    try:
        return coordination().wake_claim(
            subscription_id=subscription_id, seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS
        )
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="the debounce of wakes (every wake publishes a drain)")
        return True


def _publish(subscription_ids: list, *, countdown: float | None = None, own_traces: bool = False) -> None:
    global _broker_failed_at
    if _broker_failed_at is not None and time.monotonic() - _broker_failed_at < BROKER_HOLD_OFF_SECONDS:
        _wakes_forget(subscription_ids)
        return
    try:
        with app.producer_or_acquire() as producer:
            for subscription_id in subscription_ids:
                with tracing.traces_of_their_own() if own_traces else contextlib.nullcontext():
                    app.send_task(
                        DRAIN_TASK,
                        args=(str(subscription_id),),
                        countdown=countdown,
                        producer=producer,
                        # One try: the sweeper wakes it anyway, rather than the retries of Celery's policy.
                        retry=False,
                    )
    except (KombuError, OSError):
        _broker_failed_at = time.monotonic()
        _wakes_forget(subscription_ids)
        logger.warning("broker unavailable: %d subscriptions wait for the sweeper", len(subscription_ids))
    else:
        _broker_failed_at = None


def _wakes_forget(subscription_ids: list) -> None:
    """A wake that was not published must not hold back the sweeper's for the debounce's time."""
    if not shared_cache_usable():
        return
    try:
        for subscription_id in subscription_ids:
            coordination().wake_clear(subscription_id=subscription_id)
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="the debounce of wakes")

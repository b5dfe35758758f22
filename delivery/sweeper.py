"""The safety net: take back claims whose lease ran out, wake the subscriptions that have due deliveries and no drain,
and resume recoveries whose task was lost.

Every worker process runs it (`sweeps_run`, a thread started with the worker), every
`OUTFLOW_SWEEP_INTERVAL_SECONDS`; a PostgreSQL advisory lock lets one sweep at a time, so sweepers do no double work
and none is a single point of failure. The lock is the session's, taken and given back around each sweep, whose
statements each commit on their own (a sweep in one transaction piles up table locks and can deadlock with DDL); a
sweeper that stops mid-sweep (killed, frozen, cut off) loses it when PostgreSQL ends its idle session
(`idle_session_timeout`, set for the sweep), so the next sweeper to try takes over. The workers' connections must not
go through a pooler in transaction mode.
"""

import contextlib
import logging
import threading
import zlib

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Now

from config import tracing
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from delivery.coordination import coordination
from delivery.db_clock import database_now
from delivery.models import Delivery, due
from delivery.outcomes import delivery_lost_record
from delivery.outgoing import outgoing_log_entry
from delivery.recovery import recoveries_stalled, recovery_continue_send
from delivery.selectors import ordered_head
from delivery.subscription_lock import subscriptions_kept
from delivery.wakes import subscriptions_wake
from outbound.client import Exchange
from requestlog.services import request_logs_store
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

LOST = "attempt lost: the worker stopped before it finished"
_LOCK_KEY = zlib.crc32(b"outflow:deliveries-sweeper")


def deliveries_sweep() -> dict[str, int] | None:
    """One sweep, unless another sweeper is sweeping now (None)."""
    with _sweep_lock() as held:
        if not held:
            return None
        return {
            "leases_recovered": _leases_recover(),
            "woken": _due_wake(),
            "recoveries_resumed": _recoveries_resume(),
        }


def sweeps_run(*, stopping: threading.Event) -> None:
    """Sweep every interval until `stopping` is set; a sweep that fails is logged and the next one tries again."""
    while not stopping.wait(settings.OUTFLOW_SWEEP_INTERVAL_SECONDS):
        close_old_connections()
        try:
            deliveries_sweep()
        except Exception:
            logger.exception("a sweep of deliveries failed; the next one tries again")
            with contextlib.suppress(Exception):
                connection.close()


def _held_for_seconds() -> int:
    """How long a sweeper that stopped answering keeps the lock: a few sweep intervals, at least ten seconds."""
    return max(10, int(4 * settings.OUTFLOW_SWEEP_INTERVAL_SECONDS))


@contextlib.contextmanager
def _sweep_lock():
    if connection.vendor != "postgresql":
        # SQLite: `make run`'s one machine runs one worker process.
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        held = cursor.fetchone()[0]
        if held:
            cursor.execute(f"SET idle_session_timeout = '{_held_for_seconds()}s'")
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
                cursor.execute("RESET idle_session_timeout")


def _recoveries_resume() -> int:
    """Recoveries whose task was lost (the broker down, a worker killed) are sent on again."""
    stalled = recoveries_stalled()
    for recovery_id in stalled:
        # Each tenant's work the sweeper does starts a trace of its own (tracing.traces_of_their_own).
        with tracing.traces_of_their_own():
            recovery_continue_send(recovery_id=recovery_id)
    return len(stalled)


def _leases_recover() -> int:
    expired = list(
        Delivery.objects.select_related("subscription").filter(
            status=Delivery.Status.SENDING, lease_expires_at__lt=Now()
        )[: settings.OUTFLOW_SWEEP_BATCH]
    )
    with transaction.atomic():
        kept = subscriptions_kept(subscription_ids=list({delivery.subscription_id for delivery in expired}))
        expired = [delivery for delivery in expired if delivery.subscription_id in kept]
        request_logs_store(
            entries=[
                outgoing_log_entry(
                    subscription=delivery.subscription,
                    delivery_id=delivery.pk,
                    attempt=delivery.attempts,
                    is_test=False,
                    url=delivery.subscription.url,
                    headers={},
                    body=b"",
                    exchange=Exchange(error=LOST),
                )
                for delivery in expired
            ]
        )
        for delivery in expired:
            with tracing.traces_of_their_own():
                delivery_lost_record(delivery=delivery, error=LOST)
    return len(expired)


def subscriptions_due() -> dict:
    """The subscriptions that have a due delivery, with how many drains each may run: one probe of the due rows'
    index per subscription (a subquery with a limit, which the planner runs per subscription), so the cost grows with
    the subscriptions, never with the deliveries due."""
    first_due = Delivery.objects.filter(due(), subscription=OuterRef("pk")).values("pk")[:1]
    found = (
        Subscription.objects.annotate(first_due=Subquery(first_due))
        .filter(first_due__isnull=False)
        .values_list("pk", "ordered")
    )
    return {pk: 1 if ordered else settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION for pk, ordered in found}


def _ordered_head_due(subscription_id) -> bool:
    """Whether an ordered subscription's drain would claim anything: its oldest delivery not yet final is due (rows
    behind a failing one are due too, but wait for it)."""
    head = ordered_head(subscription_id=subscription_id)
    return head is not None and head[2] != Delivery.Status.SENDING and head[3] <= database_now()


def _due_wake() -> int:
    """Wake each subscription with due deliveries that has a free slot and whose endpoint is not resting (and was
    not woken already, within OUTFLOW_REQUEUE_GRACE_SECONDS); how many were woken."""
    slots = subscriptions_due()
    candidates = [pk for pk, allowed in slots.items() if allowed > 1 or _ordered_head_due(pk)]
    if candidates and shared_cache_usable():
        try:
            found = coordination().keys_of(subscription_ids=candidates)
            candidates = [pk for pk in candidates if found[pk].slots_held < slots[pk] and found[pk].rest is None]
        except CACHE_ERRORS as error:
            shared_cache_unreachable(error, what="the sweeper's look at drains (it wakes every due subscription)")
    return len(subscriptions_wake(subscription_ids=candidates, own_traces=True))

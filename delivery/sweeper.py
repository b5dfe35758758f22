"""Beat's safety net: take back claims whose lease ran out, and wake deliveries that are due but not queued."""

import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now

from config import tracing
from delivery.attempts import CLAIMABLE
from delivery.models import Delivery
from delivery.outcomes import delivery_lost_record
from delivery.outgoing import outgoing_log_entry
from delivery.queueing import deliveries_queue
from delivery.recovery import recoveries_stalled, recovery_continue_send
from outbound.client import Exchange
from requestlog.services import request_logs_store

LOST = "attempt lost: the worker stopped before it finished"


def deliveries_sweep() -> dict[str, int]:
    return {
        "leases_recovered": _leases_recover(),
        "enqueued": _due_enqueue(),
        "recoveries_resumed": _recoveries_resume(),
    }


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


def _due_enqueue() -> int:
    """Due and never queued (a long wait), or queued long ago and never picked up (a lost task), by the database's
    clock, which stamped the due times: oldest due first, a batch at a time, until none is left or half the sweep
    interval is spent (the next sweep goes on). The tasks go round the subscriptions (deliveries_enqueue)."""
    grace = Now() - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS)
    due = (
        Delivery.objects.filter(status__in=CLAIMABLE)
        .filter(Q(queued=False, next_attempt_at__lte=Now()) | Q(queued=True, next_attempt_at__lte=grace))
        .order_by("next_attempt_at")
    )
    deadline = time.monotonic() + settings.OUTFLOW_SWEEP_INTERVAL_SECONDS / 2
    queued = 0
    while True:
        batch = deliveries_queue(due=due, limit=settings.OUTFLOW_SWEEP_BATCH, own_traces=True)
        queued += batch
        if batch < settings.OUTFLOW_SWEEP_BATCH or time.monotonic() >= deadline:
            return queued

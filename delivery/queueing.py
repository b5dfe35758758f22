"""Waking workers up: one attempt task per batch of a subscription's deliveries (the rows already exist)."""

import contextlib
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Now
from kombu.exceptions import KombuError

from config import tracing
from config.celery import app
from delivery.models import Delivery

logger = logging.getLogger(__name__)

ATTEMPT_TASK = "delivery.tasks.deliveries_attempt"
# After a failed publish, how long a caller that can leave the wake-up to the sweeper does not try the broker.
BROKER_HOLD_OFF_SECONDS = 5.0

_broker_failed_at: float | None = None


def deliveries_enqueue(
    *, due: Iterable[tuple], countdown: float | None = None, sweeper_may_send: bool = False, own_traces: bool = False
) -> None:
    """Send tasks for (subscription id, delivery id) pairs, batched per subscription.

    With `sweeper_may_send` (rows already marked queued, which the sweeper sends again after the requeue grace),
    nothing is tried for a few seconds after a publish of this process failed: a request does not wait on a
    broker that is down, or hung until its socket times out, for a wake-up call the sweeper makes anyway.
    With `own_traces` (the sweeper's, whose wake-ups are many tenants'), each task starts a trace of its own.
    """
    global _broker_failed_at
    if sweeper_may_send and _broker_failed_at is not None:
        if time.monotonic() - _broker_failed_at < BROKER_HOLD_OFF_SECONDS:
            return
    by_subscription: dict[str, list[str]] = defaultdict(list)
    for subscription_id, delivery_id in due:
        by_subscription[str(subscription_id)].append(str(delivery_id))
    size = settings.OUTFLOW_DELIVERY_BATCH
    batches = [
        [(subscription_id, delivery_ids[start : start + size]) for start in range(0, len(delivery_ids), size)]
        for subscription_id, delivery_ids in by_subscription.items()
    ]
    try:
        with app.producer_or_acquire() as producer:
            # Each subscription's first batch, then each one's second, ...: a backlog of one subscription does not
            # queue ahead of every other's work.
            for round_of_batches in itertools.zip_longest(*batches):
                for subscription_id, batch in filter(None, round_of_batches):
                    with tracing.traces_of_their_own() if own_traces else contextlib.nullcontext():
                        app.send_task(
                            ATTEMPT_TASK,
                            args=(subscription_id, batch),
                            countdown=countdown,
                            producer=producer,
                            # One try where the sweeper sends it anyway, rather than the retries of Celery's policy.
                            retry=not sweeper_may_send,
                        )
    except (KombuError, OSError):
        # The rows are already stored: the sweeper sends these tasks again once the broker is back.
        _broker_failed_at = time.monotonic()
        logger.warning(
            "broker unavailable: %d deliveries wait for the sweeper", sum(map(len, by_subscription.values()))
        )
    else:
        _broker_failed_at = None


def deliveries_queue(*, due: QuerySet, limit: int, own_traces: bool = False) -> int:
    """Queue up to `limit` of these due deliveries, skipping rows another transaction holds: mark them queued and
    due now (by the database's clock), and send their tasks after commit. How many were queued."""
    with transaction.atomic():
        pairs = list(due.select_for_update(skip_locked=True).values_list("subscription_id", "pk")[:limit])
        if pairs:
            Delivery.objects.filter(pk__in=[pk for _, pk in pairs]).update(
                queued=True, next_attempt_at=Now(), updated_at=Now()
            )
            transaction.on_commit(lambda: deliveries_enqueue(due=pairs, own_traces=own_traces))
    return len(pairs)

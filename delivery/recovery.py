"""Recovery: sending a subscription's failed and skipped deliveries again, in bounded batches behind the request.

A recover request is a `Recovery` row: the API answers with how many deliveries it matched, and a task (resumed
by the sweeper if it is lost) makes them pending a thousand at a time, each batch its own short transaction.
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from kombu.exceptions import KombuError

from config.celery import app
from config.errors import ApiError
from delivery import error_codes
from delivery.models import Delivery, Recovery
from delivery.wakes import subscriptions_wake
from subscriptions import error_codes as subscription_error_codes
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

RECOVERABLE = (Delivery.Status.FAILED, Delivery.Status.SKIPPED)
RECOVERY_BATCH = 1000
# One task goes on for this long, then hands the rest to the next task, so no task holds a worker thread long.
RECOVERY_BUDGET_SECONDS = 5.0
CONTINUE_TASK = "delivery.tasks.recovery_continue"


def deliveries_recover(*, subscription: Subscription, since: datetime) -> int:
    """Start sending again the subscription's failed and skipped deliveries created since a time; how many."""
    if subscription.status != Subscription.Status.ACTIVE:
        raise ApiError(
            subscription_error_codes.SUBSCRIPTION_PAUSED, "resume the subscription before recovering", status_code=409
        )
    with transaction.atomic():
        # Stamped by the database's clock, as the deliveries' updated_at it is compared with.
        recovery = Recovery.objects.create(subscription=subscription, since=since, requested_at=Now())
        recovery.refresh_from_db(fields=["requested_at"])
        matched = _recoverable(recovery).count()
        if not matched:
            recovery.delete()
            return 0
        Recovery.objects.filter(pk=recovery.pk).update(matched=matched)
        transaction.on_commit(lambda: recovery_continue_send(recovery_id=recovery.pk))
    return matched


def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Send a final delivery again (succeeded, failed or skipped): pending and due now, its attempts going on from
    where they were; its subscription is woken."""
    if delivery.subscription.status != Subscription.Status.ACTIVE:
        raise ApiError(
            subscription_error_codes.SUBSCRIPTION_PAUSED, "resume the subscription before resending", status_code=409
        )
    with transaction.atomic():
        resent = Delivery.objects.filter(pk=delivery.pk, status__in=Delivery.FINAL).update(
            status=Delivery.Status.PENDING,
            next_attempt_at=Now(),
            lease_expires_at=None,
            completed_at=None,
            last_error="",
            updated_at=Now(),
        )
        if not resent:
            raise ApiError(
                error_codes.DELIVERY_NOT_FINAL,
                f"the delivery is {delivery.status}: only a succeeded, failed or skipped one can be sent again",
                status_code=409,
            )
        transaction.on_commit(lambda: subscriptions_wake(subscription_ids=[delivery.subscription_id]))
    delivery.refresh_from_db()
    return delivery


def recovery_continue(*, recovery_id) -> None:
    """Recover the next batches of a recovery within a time budget; hand what is left to another task."""
    deadline = time.monotonic() + RECOVERY_BUDGET_SECONDS
    while time.monotonic() < deadline:
        with transaction.atomic():
            recovery = (
                Recovery.objects.select_for_update(skip_locked=True)
                .filter(pk=recovery_id, finished_at__isnull=True)
                .first()
            )
            if recovery is None:
                return
            ids = list(
                _recoverable(recovery).select_for_update(skip_locked=True).values_list("pk", flat=True)[:RECOVERY_BATCH]
            )
            if not ids:
                Recovery.objects.filter(pk=recovery.pk).update(finished_at=Now(), updated_at=Now())
                return
            Delivery.objects.filter(pk__in=ids).update(
                status=Delivery.Status.PENDING,
                attempts=0,
                next_attempt_at=Now(),
                last_error="",
                last_status_code=None,
                completed_at=None,
                updated_at=Now(),
            )
            Recovery.objects.filter(pk=recovery.pk).update(recovered=F("recovered") + len(ids), updated_at=Now())
            transaction.on_commit(lambda ids=[recovery.subscription_id]: subscriptions_wake(subscription_ids=ids))
    recovery_continue_send(recovery_id=recovery_id)


def recoveries_stalled() -> list:
    """Unfinished recoveries no task has moved for a while (a lost task): their ids, for the sweeper."""
    quiet = Now() - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS)
    return list(Recovery.objects.filter(finished_at__isnull=True, updated_at__lt=quiet).values_list("pk", flat=True))


def recovery_continue_send(*, recovery_id) -> None:
    try:
        app.send_task(CONTINUE_TASK, args=(str(recovery_id),))
    except (KombuError, OSError):
        # The row is stored: the sweeper sends the task again once the recovery has been quiet for a while.
        logger.warning("broker unavailable: recovery %s waits for the sweeper", recovery_id)


def _recoverable(recovery: Recovery):
    # Deliveries this recovery (or anything else) changed after it was asked for are not taken again.
    return Delivery.objects.filter(
        subscription_id=recovery.subscription_id,
        status__in=RECOVERABLE,
        created_at__gte=recovery.since,
        updated_at__lt=recovery.requested_at,
    )

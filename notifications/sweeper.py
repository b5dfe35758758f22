"""Beat's safety net for notifications: send again those whose task was lost, fail those whose last try's worker
stopped, and tell what the digests counted once their interval is up."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now

from notifications.models import Notification
from notifications.sending import notifications_enqueue
from notifications.services import notification_digests_flush

NO_TRY_LEFT = "no try left: its last try's worker stopped, or OUTFLOW_NOTIFICATION_MAX_ATTEMPTS was lowered"


def notifications_sweep() -> dict[str, int]:
    return {
        "notifications_exhausted": notifications_exhausted_fail(),
        "notifications_enqueued": notifications_due_enqueue(),
        "digests_told": notification_digests_flush(),
    }


def notifications_exhausted_fail() -> int:
    """Failed for good: those whose last try's worker stopped (its lease ran out; the claim counted that try), and
    those left with no try when OUTFLOW_NOTIFICATION_MAX_ATTEMPTS was lowered (nothing would claim them)."""
    return (
        Notification.objects.filter(
            status=Notification.Status.PENDING, attempts__gte=settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=Now()))
        .update(status=Notification.Status.FAILED, lease_expires_at=None, last_error=NO_TRY_LEFT)
    )


def notifications_due_enqueue(*, limit: int = 1000) -> int:
    """Due and not queued (a long back-off, a claim that had to wait), queued long ago and never picked up (a lost
    task), or claimed by a worker that stopped (its lease ran out): marked queued and due now, their tasks sent."""
    grace = Now() - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS)
    due = (
        Notification.objects.filter(
            status=Notification.Status.PENDING, attempts__lt=settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=Now()))
        .filter(Q(queued=False, next_attempt_at__lte=Now()) | Q(queued=True, next_attempt_at__lte=grace))
        .order_by("next_attempt_at")
    )
    with transaction.atomic():
        ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        if ids:
            Notification.objects.filter(pk__in=ids).update(queued=True, next_attempt_at=Now())
            transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    return len(ids)

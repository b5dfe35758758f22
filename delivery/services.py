"""Recovery: sending a subscription's failed and skipped deliveries again."""

from datetime import datetime

from django.db import transaction
from django.db.models.functions import Now

from config.errors import ApiError
from delivery.models import Delivery
from delivery.queueing import deliveries_enqueue
from subscriptions import error_codes as subscription_error_codes
from subscriptions.models import Subscription


def deliveries_recover(*, subscription: Subscription, since: datetime) -> int:
    """Send again the subscription's failed and skipped deliveries created since a time."""
    if subscription.status != Subscription.Status.ACTIVE:
        raise ApiError(
            subscription_error_codes.SUBSCRIPTION_PAUSED, "resume the subscription before recovering", status_code=409
        )
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update()
            .filter(
                subscription=subscription,
                created_at__gte=since,
                status__in=(Delivery.Status.FAILED, Delivery.Status.SKIPPED),
            )
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=Now(),
            queued=True,
            last_error="",
            last_status_code=None,
            completed_at=None,
            updated_at=Now(),
        )
        transaction.on_commit(lambda: deliveries_enqueue(due=[(subscription.pk, pk) for pk in ids]))
    return len(ids)

"""A subscription's notifications of one type, at most a few an interval: the rest are counted and told together.

delivery.failed is told once an interval (OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS) with the count of failures;
subscription.paused and .resumed up to OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR times an hour, so a
pause/resume loop cannot have mail sent on every turn. Past the limit an event only adds to its digest's count, and
the sweeper tells that count (`"count": n`, with the last event's details) once the interval is up.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from notifications.models import NotificationDigest
from subscriptions.models import Subscription

# How a digest's notification is written: (subscription, type, data with its "count") -> None.
Record = Callable[[Subscription, str, dict], None]


def digest_notify(
    *, subscription: Subscription, type: str, data: dict, count: int, limit: int, interval: float, record: Record
) -> bool:
    """Told now (True) while the subscription's digest of this type has told fewer than `limit` in its interval,
    with what it counted since; else counted for the sweeper. In the caller's transaction."""
    with transaction.atomic():
        NotificationDigest.objects.get_or_create(subscription_id=subscription.pk, type=type)
        digest = NotificationDigest.objects.select_for_update().get(subscription_id=subscription.pk, type=type)
        now = timezone.now()
        if digest.window_started_at is None or digest.window_started_at <= now - timedelta(seconds=interval):
            digest.window_started_at, digest.told = now, 0
        if digest.told >= limit:
            digest.unreported += count
            digest.last_data = data
            digest.save(update_fields=["unreported", "last_data"])
            return False
        record(subscription, type, {**data, "count": digest.unreported + count})
        digest.told += 1
        digest.unreported = 0
        digest.last_data = {}
        digest.save(update_fields=["window_started_at", "told", "unreported", "last_data"])
        return True


def digests_flush(*, intervals: dict[str, float], record: Record, limit: int = 1000) -> int:
    """Tell what the digests counted once their interval is up (the sweeper's part), each starting a new interval
    with that one told. How many were told."""
    now = timezone.now()
    told = 0
    with transaction.atomic():
        for type, interval in intervals.items():
            digests = list(
                NotificationDigest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("subscription")
                .filter(type=type, unreported__gt=0, window_started_at__lte=now - timedelta(seconds=interval))[
                    : limit - told
                ]
            )
            for digest in digests:
                record(digest.subscription, type, {**digest.last_data, "count": digest.unreported})
                digest.window_started_at, digest.told, digest.unreported, digest.last_data = now, 1, 0, {}
                digest.save(update_fields=["window_started_at", "told", "unreported", "last_data"])
            told += len(digests)
            if told >= limit:
                break
    return told

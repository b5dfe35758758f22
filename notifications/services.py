"""Services of operational notifications: the settings, and the events that write notification rows (the outbox).

The event services are called inside the transaction of the change they tell about, so a notification exists
exactly when its change was committed; its tasks are sent after commit (notifications/sending.py).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from notifications.models import DeliveryFailureDigest, Notification, NotificationSettings
from notifications.selectors import notification_settings_of
from notifications.sending import notifications_enqueue
from outbound.validation import url_errors
from subscriptions.models import Subscription
from tenancy.models import Environment

SUBSCRIPTION_PAUSED = "subscription.paused"
SUBSCRIPTION_RESUMED = "subscription.resumed"
DELIVERY_FAILED = "delivery.failed"
_EMAIL_MAX_LENGTH = 254


def notification_settings_update(*, environment: Environment, **changes) -> NotificationSettings:
    """Change `webhook_url` (None: no webhook) and/or `emails`; the secret is made once and never changed here."""
    unknown = set(changes) - {"webhook_url", "emails"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    if changes.get("webhook_url"):
        if problems := url_errors(changes["webhook_url"], allow_private=settings.OUTFLOW_ALLOW_PRIVATE_TARGETS):
            errors["webhook_url"] = problems
    elif "webhook_url" in changes:
        changes["webhook_url"] = None  # "" and null both mean: no webhook
    if "emails" in changes:
        changes["emails"], problems = _emails_checked(changes["emails"])
        if problems:
            errors["emails"] = problems
    if errors:
        raise ValidationError(errors)
    notification_settings = notification_settings_of(environment=environment)
    for name, value in changes.items():
        setattr(notification_settings, name, value)
    notification_settings.save(update_fields=[*changes, "updated_at"])
    return notification_settings


def _emails_checked(emails: list[str]) -> tuple[list[str], list[str]]:
    """The addresses without repeats (case-insensitively), and what is wrong with them."""
    limit = settings.OUTFLOW_NOTIFICATION_MAX_EMAILS
    if len(emails) > limit:
        return emails, [f"at most {limit} addresses"]
    kept, seen, problems = [], set(), []
    for email in emails:
        email = email.strip()
        try:
            if len(email) > _EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            problems.append(f"{email[:80]!r} is not a valid email address")
            continue
        if email.lower() not in seen:
            seen.add(email.lower())
            kept.append(email)
    return kept, problems


def _subscription_shown(subscription: Subscription) -> dict:
    return {"id": str(subscription.pk), "name": subscription.name, "url": subscription.url}


def notification_record(*, environment_id, type: str, data: dict) -> list[Notification]:
    """One row per channel the environment has set (webhook, email), due now by the database's clock (which claims
    read), sent after the caller's transaction commits; none when it has set neither."""
    now = timezone.now()
    notification_settings = NotificationSettings.objects.filter(environment_id=environment_id).first()
    if notification_settings is None:
        return []
    payload = {"type": type, "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data}
    channels = []
    if notification_settings.webhook_url:
        channels.append(Notification.Channel.WEBHOOK)
    if notification_settings.emails:
        channels.append(Notification.Channel.EMAIL)
    notifications = Notification.objects.bulk_create(
        [
            Notification(environment_id=environment_id, channel=channel, type=type, payload=payload)
            for channel in channels
        ]
    )
    if notifications:
        ids = [notification.pk for notification in notifications]
        transaction.on_commit(lambda: notifications_enqueue(notification_ids=ids))
    return notifications


def subscription_paused_notify(*, subscription: Subscription, reason: str) -> None:
    """A worker paused the subscription (auto-disable, or a mapping error)."""
    notification_record(
        environment_id=subscription.environment_id,
        type=SUBSCRIPTION_PAUSED,
        data={"subscription": _subscription_shown(subscription), "reason": reason},
    )


def subscription_resumed_notify(*, subscription: Subscription) -> None:
    notification_record(
        environment_id=subscription.environment_id,
        type=SUBSCRIPTION_RESUMED,
        data={"subscription": _subscription_shown(subscription)},
    )


def delivery_failed_notify(*, subscription: Subscription, count: int, error: str) -> None:
    """Deliveries of a subscription without auto-disable ran out of retries: told at once when the subscription's
    last delivery.failed is an interval old, else counted for the sweeper to tell when the interval is up."""
    with transaction.atomic():
        DeliveryFailureDigest.objects.get_or_create(subscription_id=subscription.pk)
        digest = DeliveryFailureDigest.objects.select_for_update().get(subscription_id=subscription.pk)
        now = timezone.now()
        interval = timedelta(seconds=settings.OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS)
        if digest.last_notified_at is not None and digest.last_notified_at > now - interval:
            digest.unreported += count
            digest.last_error = error
            digest.save(update_fields=["unreported", "last_error"])
            return
        _delivery_failed_record(subscription=subscription, digest=digest, count=digest.unreported + count, error=error)


def _delivery_failed_record(*, subscription: Subscription, digest: DeliveryFailureDigest, count: int, error: str):
    notification_record(
        environment_id=subscription.environment_id,
        type=DELIVERY_FAILED,
        data={"subscription": _subscription_shown(subscription), "count": count, "error": error},
    )
    digest.unreported = 0
    digest.last_error = ""
    digest.last_notified_at = timezone.now()
    digest.save(update_fields=["unreported", "last_error", "last_notified_at"])


def delivery_failed_digests_flush(*, limit: int = 1000) -> int:
    """Tell the failures counted while an interval ran, once it is up (the sweeper's part). How many were told."""
    due = timezone.now() - timedelta(seconds=settings.OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS)
    with transaction.atomic():
        digests = list(
            DeliveryFailureDigest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(unreported__gt=0, last_notified_at__lte=due)[:limit]
        )
        for digest in digests:
            _delivery_failed_record(
                subscription=digest.subscription, digest=digest, count=digest.unreported, error=digest.last_error
            )
    return len(digests)

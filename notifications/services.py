"""Services of operational notifications: the settings, and the events that write notification rows (the outbox).

The event services are called inside the transaction of the change they tell about, so a notification exists
exactly when its change was committed; its tasks are sent after commit (notifications/sending.py).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.changes import MASK, changes_between
from audit.services import audit_record
from config.errors import ApiError
from notifications import error_codes
from notifications.addresses import emails_checked, emails_confirmed
from notifications.confirmation import confirmations_request
from notifications.digests import digest_notify, digests_flush
from notifications.models import Notification, NotificationSettings
from notifications.outbox import notifications_write
from notifications.selectors import notification_settings_of
from outbound.masking import masked_url
from outbound.signing_secrets import ROTATION_FIELDS, signing_secret_rotate
from outbound.validation import url_errors
from subscriptions.models import Subscription
from tenancy.models import Environment

SUBSCRIPTION_PAUSED = "subscription.paused"
SUBSCRIPTION_RESUMED = "subscription.resumed"
DELIVERY_FAILED = "delivery.failed"
NOTIFICATION_TEST = "notification.test"
_HOUR = 3600.0


def notification_settings_update(*, environment: Environment, **changes) -> NotificationSettings:
    """Change `webhook_url` (None: no webhook) and/or `emails`; the secret changes only by rotation (below).
    Newly listed addresses are sent a confirmation mail; a removed address loses its confirmation."""
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
        changes["emails"], problems = emails_checked(changes["emails"])
        if problems:
            errors["emails"] = problems
    if errors:
        raise ValidationError(errors)
    notification_settings_of(environment=environment)
    with transaction.atomic():
        notification_settings = NotificationSettings.objects.select_for_update().get(environment=environment)
        if "emails" in changes:
            confirmations_request(notification_settings=notification_settings, emails=changes["emails"])
            listed = {email.lower() for email in changes["emails"]}
            changes["confirmed_emails"] = [email for email in notification_settings.confirmed_emails if email in listed]
        before = _audited(notification_settings)
        for name, value in changes.items():
            setattr(notification_settings, name, value)
        notification_settings.save(update_fields=[*changes, "updated_at"])
        if audited := changes_between(before, _audited(notification_settings), shown=_AUDIT_SHOWN):
            _audit(notification_settings, "notifications.updated", audited)
    return notification_settings


# The webhook URL as the request log shows URLs: a token in its query stays out of the audit log.
_AUDIT_SHOWN = {"webhook_url": lambda url: masked_url(url) if url else url}


def _audited(notification_settings: NotificationSettings) -> dict:
    return {"webhook_url": notification_settings.webhook_url, "emails": list(notification_settings.emails)}


def _audit(notification_settings: NotificationSettings, action: str, changes: dict) -> None:
    audit_record(
        environment_id=notification_settings.environment_id,
        action=action,
        object_id=notification_settings.pk,
        object_name=str(notification_settings),
        changes=changes,
    )


def notification_secret_rotate(*, environment: Environment) -> NotificationSettings:
    """A new secret for the environment's notification webhook; the old one keeps signing alongside for
    OUTFLOW_SECRET_ROTATION_HOURS, as a subscription's does. The row is locked as an update locks it: two rotations at
    once go one after the other, the second keeping the first's new secret as its previous one."""
    notification_settings_of(environment=environment)
    with transaction.atomic():
        notification_settings = NotificationSettings.objects.select_for_update().get(environment=environment)
        signing_secret_rotate(
            notification_settings, now=timezone.now(), grace=timedelta(hours=settings.OUTFLOW_SECRET_ROTATION_HOURS)
        )
        notification_settings.save(update_fields=[*ROTATION_FIELDS, "updated_at"])
        _audit(notification_settings, "notifications.secret_rotated", {"secret": [MASK, MASK]})
    return notification_settings


def _subscription_shown(subscription: Subscription) -> dict:
    # Masked as the request log masks it: a URL's query may hold a token, and mail is read by more than the tenant.
    return {"id": str(subscription.pk), "name": subscription.name, "url": masked_url(subscription.url)}


def notification_record(*, environment_id, type: str, data: dict) -> list[Notification]:
    """One row per channel the environment has set (a webhook, confirmed emails), due now by the database's clock
    (which claims read), sent after the caller's transaction commits; none when it has set neither."""
    notification_settings = NotificationSettings.objects.filter(environment_id=environment_id).first()
    if notification_settings is None:
        return []
    channels = []
    if notification_settings.webhook_url:
        channels.append(Notification.Channel.WEBHOOK)
    if emails_confirmed(notification_settings):
        channels.append(Notification.Channel.EMAIL)
    return notifications_write(environment_id=environment_id, type=type, data=data, channels=channels)


def notification_test_send(*, environment: Environment) -> list[Notification]:
    """A notification.test now, to the webhook and the confirmed addresses, signed and retried as any notification;
    refused (409 no_channel) when the environment has set neither."""
    with transaction.atomic():
        sent = notification_record(
            environment_id=environment.pk,
            type=NOTIFICATION_TEST,
            data={"message": "A test of this environment's operational notifications: they reach you."},
        )
    if not sent:
        raise ApiError(
            error_codes.NO_CHANNEL,
            "nothing to send to: set a webhook URL or confirm an email address first",
            status_code=409,
        )
    return sent


def _digest_record(subscription: Subscription, type: str, data: dict) -> None:
    """A digest's notification: delivery.failed always says its count; paused and resumed only when several were
    coalesced into it."""
    if type != DELIVERY_FAILED and data["count"] == 1:
        data = {name: value for name, value in data.items() if name != "count"}
    notification_record(
        environment_id=subscription.environment_id,
        type=type,
        data={"subscription": _subscription_shown(subscription), **data},
    )


def _state_notify(*, subscription: Subscription, type: str, data: dict) -> None:
    digest_notify(
        subscription=subscription,
        type=type,
        data=data,
        count=1,
        limit=settings.OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR,
        interval=_HOUR,
        record=_digest_record,
    )


def subscription_paused_notify(*, subscription: Subscription, reason: str) -> None:
    """A worker paused the subscription (auto-disable, or a mapping error)."""
    _state_notify(subscription=subscription, type=SUBSCRIPTION_PAUSED, data={"reason": reason})


def subscription_resumed_notify(*, subscription: Subscription) -> None:
    _state_notify(subscription=subscription, type=SUBSCRIPTION_RESUMED, data={})


def delivery_failed_notify(*, subscription: Subscription, count: int, error: str) -> None:
    """Deliveries of a subscription without auto-disable ran out of retries: told at once when the subscription's
    last delivery.failed is an interval old, else counted for the sweeper to tell when the interval is up."""
    digest_notify(
        subscription=subscription,
        type=DELIVERY_FAILED,
        data={"error": error},
        count=count,
        limit=1,
        interval=settings.OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS,
        record=_digest_record,
    )


def notification_digests_flush() -> int:
    """Tell what was counted while an interval ran, once it is up (the sweeper's part). How many were told."""
    return digests_flush(
        intervals={
            DELIVERY_FAILED: settings.OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS,
            SUBSCRIPTION_PAUSED: _HOUR,
            SUBSCRIPTION_RESUMED: _HOUR,
        },
        record=_digest_record,
    )

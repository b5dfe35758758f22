"""Opt-in confirmation of notification addresses: one confirmation mail per address listed, rate limited, and the
confirmation itself.

A confirmation mail goes to an unconfirmed address when it is listed (or listed again) and none went to it in the
last OUTFLOW_NOTIFICATION_CONFIRMATION_INTERVAL_SECONDS; an environment sends at most
OUTFLOW_NOTIFICATION_CONFIRMATIONS_PER_DAY a day to addresses still unconfirmed. Both count the confirmation rows
already written, so removing an address and listing it again starts nothing afresh. The mail holds nothing the
tenant wrote (no environment or subscription name), so it cannot carry a tenant's message to a stranger.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.addresses import EMAIL_CONFIRMATION, confirmation_token_read
from notifications.models import Notification, NotificationSettings
from notifications.outbox import notifications_write

_DAY = timedelta(days=1)


def confirmations_request(*, notification_settings: NotificationSettings, emails: list[str]) -> None:
    """Write a confirmation mail for each address of the new list that needs one and may have one, in the caller's
    transaction (which holds the settings row). A newly listed address that may not have one today is refused."""
    now = timezone.now()
    confirmed = set(notification_settings.confirmed_emails)
    listed_before = {email.lower() for email in notification_settings.emails}
    sent = Notification.objects.filter(
        environment_id=notification_settings.environment_id, type=EMAIL_CONFIRMATION, created_at__gt=now - _DAY
    ).values_list("created_at", "payload__data__email")
    sent = list(sent)
    interval_start = now - timedelta(seconds=settings.OUTFLOW_NOTIFICATION_CONFIRMATION_INTERVAL_SECONDS)
    lately = {email.lower() for created_at, email in sent if created_at > interval_start}
    unconfirmed_today = sum(1 for _, email in sent if email.lower() not in confirmed)
    cap = settings.OUTFLOW_NOTIFICATION_CONFIRMATIONS_PER_DAY
    refused = []
    for email in emails:
        address = email.lower()
        if address in confirmed or address in lately:
            continue  # confirmed, or its last confirmation mail is recent (its link still confirms)
        if unconfirmed_today >= cap:
            if address not in listed_before:
                refused.append(email)
            continue
        notifications_write(
            environment_id=notification_settings.environment_id,
            type=EMAIL_CONFIRMATION,
            data={"email": email},
            channels=[Notification.Channel.EMAIL],
        )
        lately.add(address)
        unconfirmed_today += 1
    if refused:
        raise ValidationError(
            {
                "emails": [
                    f"{email!r}: no confirmation mail can be sent today (at most {cap} a day go to unconfirmed "
                    "addresses of an environment)"
                    for email in refused
                ]
            }
        )


def email_confirm(*, token: str) -> str | None:
    """Confirm the address a confirmation link names; the address, or None when the link is bad or expired or the
    address is no longer listed."""
    claims = confirmation_token_read(token)
    if claims is None:
        return None
    address = claims["email"]
    with transaction.atomic():
        notification_settings = (
            NotificationSettings.objects.select_for_update().filter(environment_id=claims["environment"]).first()
        )
        if notification_settings is None or address not in {email.lower() for email in notification_settings.emails}:
            return None
        if address not in notification_settings.confirmed_emails:
            notification_settings.confirmed_emails = [*notification_settings.confirmed_emails, address]
            notification_settings.save(update_fields=["confirmed_emails", "updated_at"])
    return address

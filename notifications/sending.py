"""Sending notifications: a task per row after commit, a claim (a lease), one try on the row's channel, its outcome.

A webhook is POSTed through the guarded client (outbound/client.py) within the attempt deadline and signed like a
delivery with the environment's notification secret (and the previous one during a rotation's grace period); a mail
goes through Django's email backend. A failed try waits the deliveries' back-off (outbound/retry.py); nothing here
pauses anything. One webhook and one mail of an environment are in flight at a time, so a slow notification endpoint
or mail server holds at most one worker thread each, and an environment's mails go one after the other.
"""

import json
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.db import transaction
from django.db.models import Exists, F, Q
from django.db.models.functions import Now
from django.template.loader import render_to_string
from django.utils import timezone
from kombu.exceptions import KombuError

from config.celery import app
from config.json_bytes import json_bytes
from notifications.addresses import EMAIL_CONFIRMATION, confirmation_url, emails_confirmed
from notifications.models import Notification, NotificationSettings
from outbound.client import USER_AGENT, send
from outbound.retry import retry_after_seconds, retry_delay
from outbound.signing import signature_header
from outbound.signing_secrets import signing_secrets_active

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.tasks.notification_send"
_RETRY_AFTER_STATUSES = {429, 503}


@dataclass(frozen=True)
class Outcome:
    """What one try of a notification came to: sent, or an error (naming no secret) and any Retry-After asked."""

    error: str | None = None
    retry_after: float | None = None
    cancelled: bool = False


def notifications_enqueue(*, notification_ids: list, countdown: float | None = None) -> None:
    """A task per notification; the rows are stored, so a publish that fails is left to the sweeper."""
    try:
        with app.producer_or_acquire() as producer:
            for notification_id in notification_ids:
                app.send_task(SEND_TASK, args=(str(notification_id),), countdown=countdown, producer=producer)
    except (KombuError, OSError):
        logger.warning("broker unavailable: %d notifications wait for the sweeper", len(notification_ids))


def lease_seconds() -> float:
    return 2 * settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS + settings.OUTFLOW_LEASE_MARGIN_SECONDS


def notification_claim(*, notification_id: uuid.UUID) -> Notification | None:
    """Take a due notification for one try (a conditional update only one worker wins), counting the try now, as
    deliveries do: a worker that dies during the last try has spent it. None when it is not due, is another's, has
    no try left, or another of its environment and channel is in flight (the sweeper sends it later)."""
    found = Notification.objects.filter(pk=notification_id).values_list("environment_id", "channel").first()
    if found is None:
        return None
    environment_id, channel = found
    claimable = Notification.objects.filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=Now()),
        pk=notification_id,
        status=Notification.Status.PENDING,
        next_attempt_at__lte=Now(),
        attempts__lt=settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS,
    )
    with transaction.atomic():
        # Claims of one environment take turns on its settings row, so each sees the others' leases: one webhook
        # and one mail in flight per environment, so a slow endpoint or mail server holds one thread, and a tenant
        # cannot have the mail server take its mails any faster than one after the other.
        NotificationSettings.objects.select_for_update().filter(environment_id=environment_id).first()
        in_flight = Notification.objects.filter(
            environment_id=environment_id,
            channel=channel,
            status=Notification.Status.PENDING,
            lease_expires_at__gt=Now(),
        ).exclude(pk=notification_id)
        claimed = claimable.exclude(Exists(in_flight)).update(
            lease_expires_at=Now() + timedelta(seconds=lease_seconds()), attempts=F("attempts") + 1, queued=False
        )
        if not claimed:
            Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING, queued=True).update(
                queued=False
            )
            return None
        return Notification.objects.get(pk=notification_id)


def notification_send(*, notification_id: uuid.UUID) -> None:
    """One try of a notification, if it is due and this worker wins its claim."""
    notification = notification_claim(notification_id=notification_id)
    if notification is None:
        return
    notification_settings = NotificationSettings.objects.filter(environment_id=notification.environment_id).first()
    try:
        if notification.channel == Notification.Channel.WEBHOOK:
            outcome = _webhook_send(notification=notification, notification_settings=notification_settings)
        else:
            outcome = _mail_send(notification=notification, notification_settings=notification_settings)
    except Exception:
        # Recorded like any failure, so its tries run out: unrecorded, the sweeper would take it again for ever.
        logger.exception("notification %s (%s): sending failed", notification.pk, notification.channel)
        outcome = Outcome(error="internal error while sending (logged)")
    notification_outcome_record(notification=notification, outcome=outcome)
    _next_waiting_wake(notification=notification)


def _next_waiting_wake(*, notification: Notification) -> None:
    """Its turn over, the next due notification of its environment and channel that lost its claim to it goes now
    rather than at the next sweep."""
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                environment_id=notification.environment_id,
                channel=notification.channel,
                status=Notification.Status.PENDING,
                queued=False,
                next_attempt_at__lte=Now(),
            )
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=Now()))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:1]
        )
        if waiting:
            Notification.objects.filter(pk__in=waiting).update(queued=True)
            transaction.on_commit(lambda: notifications_enqueue(notification_ids=waiting))


def notification_body(notification: Notification) -> bytes:
    return json_bytes(notification.payload)


def _webhook_send(*, notification: Notification, notification_settings: NotificationSettings | None) -> Outcome:
    if notification_settings is None or not notification_settings.webhook_url:
        return Outcome(cancelled=True)
    body = notification_body(notification)
    message_id = str(notification.pk)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets=signing_secrets_active(notification_settings, now=timezone.now()),
            message_id=message_id,
            timestamp=timestamp,
            body=body,
        ),
    }
    exchange = send(
        method="POST",
        url=notification_settings.webhook_url,
        headers=headers,
        body=body,
        timeout=settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS,
        body_limit=1024,
    )
    if exchange.status is not None and 200 <= exchange.status < 300:
        return Outcome()
    retry_after = None
    if exchange.status in _RETRY_AFTER_STATUSES:
        retry_after = retry_after_seconds(exchange.header("Retry-After"), now=timezone.now())
    return Outcome(error=exchange.error or f"endpoint answered {exchange.status}", retry_after=retry_after)


def notification_mail(*, notification: Notification, to: list[str]) -> EmailMessage:
    payload = notification.payload
    subscription = payload["data"].get("subscription", {})
    # One line: a subscription's name must not start a header of its own.
    subject = " ".join(f"[Outflow] {payload['type']}: {subscription.get('name', '')}".split())
    body = render_to_string(
        "notifications/mail.txt",
        {"payload": payload, "subscription": subscription, "document": json.dumps(payload, indent=2)},
    )
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)


def confirmation_mail(*, notification: Notification, to: str) -> EmailMessage:
    body = render_to_string(
        "notifications/confirmation_mail.txt",
        {
            "url": confirmation_url(environment_id=notification.environment_id, email=to),
            "days": settings.OUTFLOW_NOTIFICATION_CONFIRMATION_MAX_AGE_SECONDS // 86400,
        },
    )
    return EmailMessage(
        subject="[Outflow] Confirm this address for notifications",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )


def _mail_of(*, notification: Notification, notification_settings: NotificationSettings | None) -> EmailMessage | None:
    """The mail to send: a confirmation to its one address while it is listed and unconfirmed, a notification to the
    confirmed addresses; None when there is no one to send it to any more."""
    if notification_settings is None:
        return None
    if notification.type == EMAIL_CONFIRMATION:
        to = notification.payload["data"]["email"]
        listed = {email.lower() for email in notification_settings.emails}
        if to.lower() not in listed or to.lower() in notification_settings.confirmed_emails:
            return None
        return confirmation_mail(notification=notification, to=to)
    to = emails_confirmed(notification_settings)
    return notification_mail(notification=notification, to=to) if to else None


def _mail_send(*, notification: Notification, notification_settings: NotificationSettings | None) -> Outcome:
    message = _mail_of(notification=notification, notification_settings=notification_settings)
    if message is None:
        return Outcome(cancelled=True)
    try:
        message.send()
    except (smtplib.SMTPException, OSError, BadHeaderError) as error:
        # The tenant reads the error's class; the server's own words (its host, an account, a quota) are the operator's.
        logger.warning("notification %s: mail not sent: %s", notification.pk, error)
        return Outcome(error=f"mail not sent: {type(error).__name__}")
    return Outcome()


def notification_outcome_record(*, notification: Notification, outcome: Outcome) -> None:
    """Sent, cancelled, failed for good, or back to pending after its back-off; only while the claim is this
    worker's (the same lease)."""
    mine = Notification.objects.filter(
        pk=notification.pk, status=Notification.Status.PENDING, lease_expires_at=notification.lease_expires_at
    )
    if outcome.cancelled:
        mine.update(status=Notification.Status.CANCELLED, lease_expires_at=None, last_error="channel removed")
        return
    if outcome.error is None:
        mine.update(status=Notification.Status.SENT, lease_expires_at=None, sent_at=Now(), last_error="")
        return
    logger.warning("notification %s (%s) failed: %s", notification.pk, notification.channel, outcome.error)
    if notification.attempts >= settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS:
        mine.update(status=Notification.Status.FAILED, lease_expires_at=None, last_error=outcome.error)
        return
    delay = retry_delay(
        notification.attempts,
        base=settings.OUTFLOW_RETRY_BASE_SECONDS,
        max_delay=settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS,
        retry_after=outcome.retry_after,
    )
    countdown = delay if delay <= settings.OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS else None
    updated = mine.update(
        lease_expires_at=None,
        last_error=outcome.error,
        next_attempt_at=Now() + timedelta(seconds=delay),
        queued=countdown is not None,
    )
    if updated and countdown is not None:
        notifications_enqueue(notification_ids=[notification.pk], countdown=countdown)

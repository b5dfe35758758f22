"""An environment's notification settings, the notifications themselves (an outbox), and the digests that keep
a subscription's notifications of one type to a few an interval.

A `Notification` is one operational event on one channel (webhook or email), written in the transaction of the
change that caused it and sent by a task after commit:

- `pending`: to send at `next_attempt_at`. `queued` says a task was sent for it (the sweeper sends one again
  when it was not, or long ago); `lease_expires_at` is set while a worker sends it (`attempts` counts the tries).
  A failed try makes it wait its back-off (`last_error` says why), pending again.
- `sent`: the endpoint answered 2xx, or the mail server took the mail (`sent_at`).
- `failed`: OUTFLOW_NOTIFICATION_MAX_ATTEMPTS tries failed.
- `cancelled`: its channel was removed from the settings before it went.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from config.encrypted_fields import EncryptedTextField
from subscriptions.models import Subscription
from tenancy.models import Environment


class NotificationSettings(models.Model):
    environment = models.OneToOneField(Environment, on_delete=models.CASCADE, related_name="notification_settings")
    webhook_url = models.URLField(max_length=2048, null=True, blank=True)
    # The addresses as listed; only those in confirmed_emails (lowercased, each confirmed by its owner through the
    # link of a confirmation mail, notifications/confirmation.py) are mailed notifications.
    emails = models.JSONField(default=list, blank=True)
    confirmed_emails = models.JSONField(default=list, blank=True)
    # Signs the webhook; after a rotation the previous secret signs alongside until it expires
    # (outbound/signing_secrets.py, as a subscription's).
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notifications of {self.environment}"


class Notification(models.Model):
    class Channel(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        CANCELLED = "cancelled"

    # Also the webhook-id: the same on every try of this notification.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    type = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_default=Now())
    queued = models.BooleanField(default=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweeper's due rows, and the one-in-flight-per-environment check of a webhook claim.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="notification_pending_due"),
            models.Index(fields=["environment", "lease_expires_at"], name="notification_in_flight"),
            models.Index(fields=["created_at"], name="notification_created"),
            # The confirmation mails an environment sent lately (their rate limits).
            models.Index(
                fields=["environment", "created_at"],
                condition=Q(type="email.confirmation"),
                name="notification_confirmation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} ({self.channel})"


class NotificationDigest(models.Model):
    """A subscription's notifications of one type, at most `limit` in an interval (delivery.failed: one an hour;
    subscription.paused and .resumed: a few): past that, the events are counted here, and the sweeper tells their
    count, with the last one's details, once the interval is up (notifications/digests.py)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="notification_digests")
    type = models.CharField(max_length=32)
    window_started_at = models.DateTimeField(null=True, blank=True)
    told = models.PositiveIntegerField(default=0)
    unreported = models.PositiveIntegerField(default=0)
    last_data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "type"], name="digest_subscription_type")]
        indexes = [
            models.Index(fields=["window_started_at"], condition=Q(unreported__gt=0), name="digest_unreported_due"),
        ]

    def __str__(self) -> str:
        return f"{self.type} of {self.subscription_id}"

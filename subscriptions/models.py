"""Export settings of an environment, the event type catalog, and subscriptions."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from config.encrypted_fields import EncryptedTextField
from config.versioned_rows import VersionedModel
from tenancy.models import Environment


class ExportSettings(VersionedModel):
    environment = models.OneToOneField(Environment, on_delete=models.CASCADE, related_name="export_settings")
    include_test_events = models.BooleanField(default=False)
    include_request_payload = models.BooleanField(default=False)
    include_card_response_data = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "export settings"

    def __str__(self) -> str:
        return f"Export settings of {self.environment}"


class EventType(models.Model):
    name = models.CharField(max_length=64, primary_key=True)
    origin = models.CharField(max_length=32, default="platform")
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


RATE_LIMIT_MAX = 10000


class Subscription(VersionedModel):
    class Method(models.TextChoices):
        POST = "POST"
        PUT = "PUT"

    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(max_length=100)
    card = models.CharField(max_length=128, null=True, blank=True)
    event_types = models.ManyToManyField(EventType, related_name="subscriptions")
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    url = models.URLField(max_length=2048)
    headers = models.JSONField(default=dict, blank=True)
    credential = models.ForeignKey(
        "credentials.Credential", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    # A credential of type tls: its client certificate is presented, its CA certificates trusted, for this URL.
    tls_credential = models.ForeignKey(
        "credentials.Credential", null=True, blank=True, on_delete=models.PROTECT, related_name="tls_subscriptions"
    )
    # JavaScript: the body of a function of `event` whose return value becomes the payload.
    mapping = models.TextField(null=True, blank=True)
    # Conditions on the shaped event (subscriptions/payload_filters.py); an event that fails them gets no delivery.
    filter = models.JSONField(null=True, blank=True)
    max_retries = models.PositiveSmallIntegerField(default=23)
    auto_disable = models.BooleanField(default=True)
    # Requests per second to the URL across all workers (delivery/rate_limit.py); null: no limit.
    rate_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(RATE_LIMIT_MAX)]
    )
    # With tracing on, each request carries a W3C traceparent naming its span, so the receiver's trace continues ours.
    send_traceparent = models.BooleanField(default=False)
    # Deliveries go one at a time in the order their events came in; one that fails holds those behind it.
    ordered = models.BooleanField(default=False)
    # Consecutive deliveries its mapping failed (delivery/outcomes.py); written by .update(), so updated_at (the
    # version workers cache the subscription by) does not move.
    mapping_failures = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name

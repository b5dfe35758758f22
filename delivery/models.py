"""Ingested events and their deliveries, one per matching subscription."""

import uuid

from django.db import models
from django.db.models.functions import Now

from config.time_ordered_ids import uuid7
from subscriptions.models import Subscription
from tenancy.models import Environment


class Event(models.Model):
    # Time-ordered, as Delivery's: each insert touches the index's newest pages, cached, not a random one.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=128)
    name = models.CharField(max_length=64)
    card = models.CharField(max_length=128, null=True, blank=True)
    is_test = models.BooleanField(default=False)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["environment", "event_id"], name="event_unique_per_environment")]
        indexes = [
            models.Index(fields=["environment", "name", "-received_at"]),
            # Retention finds events past their time with it.
            models.Index(fields=["received_at", "id"], name="event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.event_id}"


class Delivery(models.Model):
    """One event's delivery to one subscription. Its states, and who moves it from each: delivery/README.md."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        RETRYING = "retrying"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"

    # A drain may claim these (delivery/claims.py): waiting for their first attempt, or for another one.
    CLAIMABLE = (Status.PENDING, Status.RETRYING)
    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED)

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # No index of its own: delivery_newest_first, delivery_waiting and the status index lead with it.
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["lease_expires_at"], name="delivery_leased", condition=models.Q(status="sending")),
            # A drain's claim of its subscription's oldest due rows, and the sweeper's look for subscriptions with any.
            models.Index(
                fields=["subscription", "next_attempt_at"],
                name="delivery_due_per_subscription",
                condition=models.Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["subscription", "status", "-created_at"]),
            # A subscription's deliveries newest first: the order of the deliveries list and its cursor.
            models.Index(fields=["subscription", "-created_at", "-id"], name="delivery_newest_first"),
        ]

    def __str__(self) -> str:
        return str(self.id)


def due() -> models.Q:
    """A delivery is due when a drain may claim it now, by the database's clock: nothing else decides whether it goes
    (an ordered subscription's drain also stops at the first of its deliveries that is not due, delivery/claims.py)."""
    return models.Q(status__in=Delivery.CLAIMABLE, next_attempt_at__lte=Now())


class Recovery(models.Model):
    """A recover request carried out in bounded batches behind the API's answer (delivery/recovery.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="recoveries")
    since = models.DateTimeField()
    # Deliveries changed after this (by the recovery itself, or failing again) are not taken again.
    requested_at = models.DateTimeField()
    matched = models.PositiveIntegerField(default=0)
    recovered = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "recoveries"
        indexes = [
            models.Index(fields=["updated_at"], name="recovery_unfinished", condition=models.Q(finished_at=None))
        ]

    def __str__(self) -> str:
        return f"recovery of {self.subscription_id} since {self.since:%Y-%m-%d %H:%M}"


class DeliveryCounter(models.Model):
    """Running totals of what became of deliveries, for /metrics: added to in the statement that records the
    outcome (delivery/counters.py), never counted from the deliveries table. A total is the sum of its shards:
    writers pick a shard at random, so concurrent workers seldom wait on each other's row."""

    outcome = models.CharField(max_length=16)
    shard = models.PositiveSmallIntegerField()
    total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["outcome", "shard"], name="delivery_counter_unique")]

    def __str__(self) -> str:
        return f"{self.outcome}[{self.shard}] {self.total}"

"""Environments (the tenants), their API keys, their Workbench members and the members' TOTP devices.

The tables kept the names they had when these models lived in the subscriptions app.
"""

import secrets
import time
import uuid

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from config.encrypted_fields import EncryptedTextField


def totp_key_new() -> str:
    """A new TOTP key: 20 random bytes (RFC 4226's recommended length), in hex."""
    return secrets.token_hex(20)


class Environment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "subscriptions_environment"

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An API key, stored as its SHA-256; the key itself is shown once, when it is made. Its scope says what it may
    call (tenancy/scopes.py)."""

    class Scope(models.TextChoices):
        FULL = "full", "Full: everything"
        INGEST = "ingest", "Ingest: only sending events"
        READ = "read", "Read: only reading"

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.FULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "subscriptions_apikey"
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}…"


class Member(models.Model):
    """A Workbench user's place in one environment: owners also manage its API keys; editors create, change and
    delete; viewers read."""

    class Role(models.TextChoices):
        OWNER = "owner"
        EDITOR = "editor"
        VIEWER = "viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "subscriptions_member"
        constraints = [models.UniqueConstraint(fields=["user", "environment"], name="member_unique_per_environment")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.environment})"


class TotpDevice(TimestampMixin, ThrottlingMixin, Device):
    """A member's authenticator app (RFC 6238: 30-second steps, six digits, SHA-1), a django-otp device.

    django-otp's own TOTPDevice keeps its key in clear; this one keeps it encrypted at rest. django-otp still does
    the rest: the algorithm (`django_otp.oath.TOTP`), throttling after wrong codes, the session's verified device.
    """

    STEP_SECONDS = 30
    DIGITS = 6

    key = EncryptedTextField(default=totp_key_new)
    # The time step of the last accepted code: a code is accepted once, and no older one after it.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "TOTP device"

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        totp = TOTP(bytes.fromhex(self.key), self.STEP_SECONDS, 0, self.DIGITS)
        totp.time = time.time()
        token = str(token).strip()
        verified = token.isdigit() and totp.verify(int(token), settings.OUTFLOW_TOTP_TOLERANCE_STEPS, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return settings.OUTFLOW_TOTP_THROTTLE_FACTOR

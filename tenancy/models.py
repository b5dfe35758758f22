"""Environments (the tenants), their API keys and their Workbench members.

The tables kept the names they had when these models lived in the subscriptions app.
"""

import uuid

from django.conf import settings
from django.db import models


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

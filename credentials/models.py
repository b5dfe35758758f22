"""Saved, reusable credentials: public settings in clear, secret values encrypted at rest."""

import uuid

from django.db import models

from config.encrypted_fields import EncryptedJSONField
from config.versioned_rows import VersionedModel
from tenancy.models import Environment


class Credential(VersionedModel):
    class Type(models.TextChoices):
        BASIC_AUTH = "basic_auth"
        OAUTH_CLIENT_CREDENTIALS = "oauth_client_credentials"
        AWS_SIGNED_REQUEST = "aws_signed_request"
        TLS = "tls"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=32, choices=Type.choices)
    # Non-secret settings of the type (username, token_url, region, …).
    settings = models.JSONField(default=dict)
    # Secret values of the type (password, client_secret, …), one encrypted JSON object.
    secrets = EncryptedJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_type_display()})"

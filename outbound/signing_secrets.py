"""Standard Webhooks signing secrets (pure): a new one, its rotation, and which of a row's secrets sign now.

A rotation keeps the replaced secret signing alongside the new one for a grace period, so a receiver can move to the
new secret without refusing a request meanwhile (`signing.signature_header` puts one signature per secret in the
header). Subscriptions and an environment's notification settings rotate the same way, each saving its own row.
"""

import base64
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from outbound.signing import SECRET_PREFIX

# What a rotation changes: the fields a caller saves.
ROTATION_FIELDS = ["secret", "previous_secret", "previous_secret_expires_at"]


class SigningSecrets(Protocol):
    """A row that signs with a secret of its own (a subscription, notification settings)."""

    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


def signing_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secret_rotate(row: SigningSecrets, *, now: datetime, grace: timedelta) -> str:
    """A new secret in the row; the current one becomes the previous, signing until `now + grace` (one rotated
    before it stops at once). The new secret, for the caller to show once."""
    row.previous_secret = row.secret
    row.previous_secret_expires_at = now + grace
    row.secret = signing_secret_new()
    return row.secret


def signing_secrets_active(row: SigningSecrets, *, now: datetime) -> list[str]:
    """The secrets to sign with at `now`: the current one, and the previous one during its grace period."""
    active = [row.secret]
    expires = row.previous_secret_expires_at
    if row.previous_secret and expires and expires > now:
        active.append(row.previous_secret)
    return active

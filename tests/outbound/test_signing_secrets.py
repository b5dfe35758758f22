"""Signing secrets and their rotation, as subscriptions and notification settings both use them (no database)."""

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from outbound.signing_secrets import signing_secret_new, signing_secret_rotate, signing_secrets_active

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GRACE = timedelta(hours=24)


@dataclass
class _Row:
    secret: str
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None


def test_a_new_secret_is_32_random_bytes_behind_whsec():
    made = {signing_secret_new() for _ in range(20)}

    assert len(made) == 20
    assert all(len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32 for secret in made)


def test_a_row_never_rotated_signs_with_its_one_secret():
    assert signing_secrets_active(_Row(secret="whsec_a"), now=NOW) == ["whsec_a"]


def test_after_a_rotation_both_sign_until_the_grace_period_ends_then_only_the_new():
    row = _Row(secret="whsec_old")

    new = signing_secret_rotate(row, now=NOW, grace=GRACE)

    assert new == row.secret != "whsec_old" and row.previous_secret == "whsec_old"
    assert signing_secrets_active(row, now=NOW + GRACE - timedelta(seconds=1)) == [new, "whsec_old"]
    assert signing_secrets_active(row, now=NOW + GRACE) == [new]


def test_a_second_rotation_drops_the_first_secret_at_once():
    row = _Row(secret="whsec_first")
    second = signing_secret_rotate(row, now=NOW, grace=GRACE)

    third = signing_secret_rotate(row, now=NOW + timedelta(hours=1), grace=GRACE)

    assert signing_secrets_active(row, now=NOW + timedelta(hours=1)) == [third, second]

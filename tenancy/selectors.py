"""Read queries of the tenancy app."""

import hashlib
import uuid

from django.contrib.auth import get_user_model

from tenancy.models import ApiKey, Environment, Member


def api_key_of(*, key: str) -> ApiKey | None:
    """The key (with its environment) whose SHA-256 this key has."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return ApiKey.objects.select_related("environment").filter(key_hash=digest).first()


def environment_by_id_or_name(*, value: str) -> Environment | None:
    try:
        return Environment.objects.filter(pk=uuid.UUID(value)).first()
    except ValueError:
        return Environment.objects.filter(name=value).order_by("created_at").first()


def member_environments(*, user) -> list[tuple[uuid.UUID, str, str]]:
    """(environment id, name, role) of each environment the user belongs to, by name."""
    return list(
        Member.objects.filter(user=user)
        .order_by("environment__name", "environment_id")
        .values_list("environment_id", "environment__name", "role")
    )


def sso_members_by_email(*, email: str):
    """The Workbench members single sign-on may sign in for this email: active, with a membership, not operators."""
    return (
        get_user_model()
        .objects.filter(email__iexact=email, is_active=True, is_staff=True, is_superuser=False)
        .filter(memberships__isnull=False)
        .distinct()
    )

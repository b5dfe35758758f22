"""Read queries of the tenancy app."""

import hashlib
import uuid

from tenancy.models import ApiKey, Environment, Member


def api_key_environment(*, key: str) -> Environment | None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    api_key = ApiKey.objects.select_related("environment").filter(key_hash=digest).first()
    return api_key.environment if api_key else None


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

"""Read queries of the subscriptions app."""

import hashlib
import uuid

from django.db.models import QuerySet

from subscriptions.models import ApiKey, Environment, EventType, ExportSettings, Member, Subscription


def api_key_environment(*, key: str) -> Environment | None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    api_key = ApiKey.objects.select_related("environment").filter(key_hash=digest).first()
    return api_key.environment if api_key else None


def environment_by_id_or_name(*, value: str) -> Environment | None:
    try:
        return Environment.objects.filter(pk=uuid.UUID(value)).first()
    except ValueError:
        return Environment.objects.filter(name=value).order_by("created_at").first()


def member_roles(*, user) -> dict[uuid.UUID, str]:
    """Environment id → the user's role there."""
    return dict(Member.objects.filter(user=user).values_list("environment_id", "role"))


def environments_of_member(*, user, roles: tuple[str, ...] = tuple(Member.Role.values)) -> QuerySet[Environment]:
    return Environment.objects.filter(members__user=user, members__role__in=roles).order_by("name")


def event_type_names() -> set[str]:
    return set(EventType.objects.values_list("name", flat=True))


def export_settings_of(*, environment: Environment) -> ExportSettings:
    settings, _ = ExportSettings.objects.get_or_create(environment=environment)
    return settings


def subscriptions_of(*, environment: Environment):
    return Subscription.objects.filter(environment=environment).prefetch_related("event_types")


def subscriptions_for_fanout(*, environment: Environment, event_names: set[str]) -> list[Subscription]:
    """Subscriptions (active or paused) listening to any of the names, each with `event_type_names` set."""
    subscriptions = list(
        Subscription.objects.filter(environment=environment, event_types__name__in=event_names)
        .distinct()
        .prefetch_related("event_types")
    )
    for subscription in subscriptions:
        subscription.event_type_names = {event_type.name for event_type in subscription.event_types.all()}
    return subscriptions

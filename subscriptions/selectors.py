"""Read queries of the subscriptions app."""

from subscriptions.models import EventType, ExportSettings, Subscription
from tenancy.models import Environment


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

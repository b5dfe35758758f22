"""Read queries of the subscriptions app."""

import hashlib

from subscriptions.models import ApiKey, Environment, EventType, ExportSettings, Subscription


def api_key_environment(*, key: str) -> Environment | None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    api_key = ApiKey.objects.select_related("environment").filter(key_hash=digest).first()
    return api_key.environment if api_key else None


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


def subscription_for_delivery(*, subscription_id) -> Subscription | None:
    """A subscription with all a delivery batch reads of it: environment, export settings, credential."""
    subscription = (
        Subscription.objects.select_related("environment__export_settings", "credential")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is not None and not hasattr(subscription.environment, "export_settings"):
        subscription.environment.export_settings = export_settings_of(environment=subscription.environment)
    return subscription

"""Read queries of the subscriptions app."""

from subscriptions.compiled_filters import subscription_filter_matcher
from subscriptions.export_fields import export_removed_paths, filter_export_warnings
from subscriptions.models import EventType, ExportSettings, Subscription
from tenancy.models import Environment


def event_type_names() -> set[str]:
    return set(EventType.objects.values_list("name", flat=True))


def export_settings_of(*, environment: Environment) -> ExportSettings:
    settings, _ = ExportSettings.objects.get_or_create(environment=environment)
    return settings


def subscription_filter_warnings(
    *, subscription: Subscription, export_settings: ExportSettings | None = None
) -> list[str]:
    """The paths of the subscription's filter that its environment's export settings remove (always missing)."""
    if subscription.filter is None:
        return []
    export = export_settings or export_settings_of(environment=subscription.environment)
    removed = export_removed_paths(
        include_request_payload=export.include_request_payload,
        include_card_response_data=export.include_card_response_data,
    )
    return filter_export_warnings(subscription.filter, removed=removed)


def subscription_ids_of(*, environment_ids: list) -> list:
    """The ids of the environments' subscriptions, as a list: rows filtered by it are found through their
    subscription's index, and the planner judges each subscription's share of the table by its own statistics."""
    return list(Subscription.objects.filter(environment_id__in=environment_ids).values_list("pk", flat=True))


def subscriptions_of(*, environment: Environment):
    return Subscription.objects.filter(environment=environment).prefetch_related("event_types")


def subscriptions_for_fanout(*, environment: Environment, event_names: set[str]) -> list[Subscription]:
    """Subscriptions (active or paused) listening to any of the names, each with `event_type_names` and
    `filter_matcher` (its compiled payload filter, or None) set."""
    subscriptions = list(
        Subscription.objects.filter(environment=environment, event_types__name__in=event_names)
        .distinct()
        .prefetch_related("event_types")
    )
    for subscription in subscriptions:
        subscription.event_type_names = {event_type.name for event_type in subscription.event_types.all()}
        subscription.filter_matcher = subscription_filter_matcher(subscription)
    return subscriptions

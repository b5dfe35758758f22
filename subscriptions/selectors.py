"""Read queries of the subscriptions app."""

import hashlib
import threading
import uuid
from collections import OrderedDict

from django.db import connection
from django.db.models import QuerySet

from credentials.models import Credential
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


def subscription_for_delivery(*, subscription_id) -> Subscription | None:
    """A subscription with all a delivery batch reads of it: environment, export settings, credential.

    Each worker process keeps what it loaded and loads it again once its version changed: one indexed raw
    query per batch instead of a four-table ORM query, whose compiling alone cost ~0.9 ms of CPU (measured).
    Every write to these rows goes through `save()` or sets `updated_at` (see `subscription_pause_by_id`).
    The instance is shared by the process's threads: callers read it and never change it.
    """
    version = _delivery_version(subscription_id)
    if version is None:
        return None
    key = version[0]
    with _delivery_cache_lock:
        cached = _delivery_cache.get(key)
        if cached is not None and cached[0] == version:
            _delivery_cache.move_to_end(key)
            return cached[1]
    subscription = (
        Subscription.objects.select_related("environment__export_settings", "credential")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        return None
    if not hasattr(subscription.environment, "export_settings"):
        subscription.environment.export_settings = export_settings_of(environment=subscription.environment)
        return subscription
    with _delivery_cache_lock:
        # Kept with the version read before loading: if a write fell in between, the next batch loads again.
        _delivery_cache[key] = (version, subscription)
        _delivery_cache.move_to_end(key)
        if len(_delivery_cache) > _DELIVERY_CACHE_SIZE:
            _delivery_cache.popitem(last=False)
    return subscription


_DELIVERY_CACHE_SIZE = 2048
_delivery_cache: OrderedDict = OrderedDict()
_delivery_cache_lock = threading.Lock()


def _delivery_version(subscription_id) -> tuple | None:
    """The subscription's id and what changes when anything a delivery reads of it does; None if it is gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.updated_at, s.credential_id, c.updated_at, x.updated_at"
            f" FROM {Subscription._meta.db_table} s"
            f" LEFT JOIN {Credential._meta.db_table} c ON c.id = s.credential_id"
            f" LEFT JOIN {ExportSettings._meta.db_table} x ON x.environment_id = s.environment_id"
            " WHERE s.id = %s",
            [Subscription._meta.pk.get_db_prep_value(subscription_id, connection)],
        )
        return cursor.fetchone()

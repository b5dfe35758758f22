"""Subscriptions as delivery batches read them, kept in each worker process until their version moves."""

import threading
from collections import OrderedDict

from django.db import connection

from credentials.models import Credential
from subscriptions.models import ExportSettings, Subscription
from subscriptions.selectors import export_settings_of


def subscription_for_delivery(*, subscription_id) -> Subscription | None:
    """A subscription with all a delivery batch reads of it: environment, export settings, credentials.

    Each worker process keeps what it loaded and loads it again once its version changed: one indexed raw
    query per batch instead of a four-table ORM query, whose compiling alone cost ~0.9 ms of CPU (measured).
    The version is the `updated_at` of the subscription, its credentials and its environment's export settings,
    which every write moves (config/versioned_rows.py). The instance is shared by the process's threads: callers
    read it and never change it.
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
        Subscription.objects.select_related("environment__export_settings", "credential", "tls_credential")
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
            "SELECT s.id, s.updated_at, s.credential_id, c.updated_at, x.updated_at, s.tls_credential_id, t.updated_at"
            f" FROM {Subscription._meta.db_table} s"
            f" LEFT JOIN {Credential._meta.db_table} c ON c.id = s.credential_id"
            f" LEFT JOIN {Credential._meta.db_table} t ON t.id = s.tls_credential_id"
            f" LEFT JOIN {ExportSettings._meta.db_table} x ON x.environment_id = s.environment_id"
            " WHERE s.id = %s",
            [Subscription._meta.pk.get_db_prep_value(subscription_id, connection)],
        )
        return cursor.fetchone()

"""A per-subscription limit on batches in flight, so one slow or dead endpoint cannot take every worker."""

from django.conf import settings
from django.core.cache import cache


def in_flight_slot_take(*, subscription_id, lease_seconds: float) -> str | None:
    """A free slot's key, or None when the subscription already has its limit of batches in flight."""
    for index in range(settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION):
        key = f"outflow:in-flight:{subscription_id}:{index}"
        # A slot expires with the lease, so a worker that dies holding one frees it.
        if cache.add(key, 1, timeout=int(lease_seconds) + 1):
            return key
    return None


def in_flight_slot_free(*, key: str) -> None:
    cache.delete(key)

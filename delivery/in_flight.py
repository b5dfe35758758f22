"""Guards that keep one slow or dead endpoint from taking the workers: in-flight slots and a circuit breaker."""

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


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


def _waiting_key(subscription_id) -> str:
    return f"outflow:waiting:{subscription_id}"


def waiting_mark(*, subscription_id) -> None:
    """Note that batches of the subscription wait as rows for a free slot."""
    cache.set(_waiting_key(subscription_id), 1, timeout=None)


def waiting_take(*, subscription_id) -> bool:
    """Whether batches were noted as waiting (the note is taken); the sweeper sends any a lost note leaves behind."""
    return cache.delete(_waiting_key(subscription_id))


def _circuit_key(subscription_id) -> str:
    return f"outflow:circuit:{subscription_id}"


def circuit_open_until(*, subscription_id) -> datetime | None:
    """Until when the subscription's endpoint is left alone after it stopped answering, if it is."""
    until = cache.get(_circuit_key(subscription_id))
    return until if until is not None and until > timezone.now() else None


def circuit_trip(*, subscription_id, until: datetime) -> None:
    """Leave the endpoint alone until a time: batches meanwhile wait as rows instead of timing out one by one."""
    seconds = (until - timezone.now()).total_seconds()
    if seconds > 0:
        cache.set(_circuit_key(subscription_id), until, timeout=int(seconds) + 1)

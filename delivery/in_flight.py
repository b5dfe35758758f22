"""Guards that keep one slow or dead endpoint from taking the workers: in-flight slots and a circuit breaker."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.held_keys import held_key_extend, held_key_free


@dataclass(frozen=True, slots=True)
class InFlightSlot:
    """A slot a batch holds: its key, and the token stored there that says the batch holds it."""

    key: str
    owner: str


def in_flight_slot_take(*, subscription_id, seconds: float) -> InFlightSlot | None:
    """A free slot, held for `seconds` at most, or None when the subscription already has its limit of batches in
    flight."""
    owner = secrets.token_hex(8)
    for index in range(settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION):
        key = f"outflow:in-flight:{subscription_id}:{index}"
        # A slot expires, so a worker that dies holding one frees it.
        if cache.add(key, owner, timeout=int(seconds) + 1):
            return InFlightSlot(key=key, owner=owner)
    return None


def in_flight_slot_extend(*, slot: InFlightSlot, seconds: float) -> bool:
    """Hold the slot `seconds` from now (a batch whose lease was renewed); False if it had expired meanwhile."""
    return held_key_extend(key=slot.key, owner=slot.owner, seconds=seconds)


def in_flight_slot_free(*, slot: InFlightSlot) -> None:
    # Only while it is still ours: a slot that expired under a slow batch may be another batch's by now.
    held_key_free(key=slot.key, owner=slot.owner)


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

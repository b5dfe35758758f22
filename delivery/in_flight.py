"""Guards that keep one slow or dead endpoint from taking the workers, and that leave an endpoint alone when it
stopped answering or asked for it: in-flight slots, a circuit breaker, a 429's slow-down."""

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache, caches
from django.utils import timezone

from config.held_keys import held_key_extend, held_key_free
from config.redis_cache import RedisCache
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable


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
    return f"outflow:circuit:{{{subscription_id}}}"


def endpoint_resting_until(*, subscription_id) -> datetime | None:
    """Until when the subscription's endpoint is left alone, if it is: its circuit is open (it stopped answering) or
    it asked to be slowed down (a 429 with Retry-After). One round trip for both."""
    values = cache.get_many([_circuit_key(subscription_id), slow_down_key(subscription_id)])
    times = [values.get(_circuit_key(subscription_id))]
    if (slow_ms := values.get(slow_down_key(subscription_id))) is not None:
        times.append(datetime.fromtimestamp(slow_ms / 1000, tz=UTC))
    until = max(filter(None, times), default=None)
    return until if until is not None and until > timezone.now() else None


def circuit_trip(*, subscription_id, until: datetime) -> None:
    """Leave the endpoint alone until a time: batches meanwhile wait as rows instead of timing out one by one."""
    seconds = (until - timezone.now()).total_seconds()
    if seconds > 0:
        cache.set(_circuit_key(subscription_id), until, timeout=int(seconds) + 1)


def slow_down_key(subscription_id) -> str:
    """Holds the end of the subscription's slow-down, in Unix milliseconds (an integer, readable by the rate
    limiter's script)."""
    return f"outflow:slow-down:{{{subscription_id}}}"


# Keeps the later end: a shorter Retry-After answered meanwhile does not cut a longer one short.
_SLOW_DOWN_LATER = (
    "local now = tonumber(redis.call('get', KEYS[1]))"
    " if not now or now < tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]) end"
)


def subscription_slow_down(*, subscription_id, seconds: float) -> datetime:
    """Send the subscription nothing for `seconds` (its endpoint answered 429 with Retry-After): batches that start
    meanwhile wait as rows, and the rate limiter grants no permit. When the slow-down ends."""
    until_ms = int((time.time() + seconds) * 1000)
    until = datetime.fromtimestamp(until_ms / 1000, tz=UTC)
    milliseconds = int(seconds * 1000) + 1000
    shared = caches["default"]
    if not shared_cache_usable():
        return until
    try:
        if isinstance(shared, RedisCache):
            shared.script_run(_SLOW_DOWN_LATER, keys=[slow_down_key(subscription_id)], args=[until_ms, milliseconds])
        elif (cache.get(slow_down_key(subscription_id)) or 0) < until_ms:
            # The file cache of `make run` (one machine) has no scripts: read, then write.
            cache.set(slow_down_key(subscription_id), until_ms, timeout=int(seconds) + 1)
    except CACHE_ERRORS as error:
        # The batch that was told still stops; the endpoint tells the others with its own 429s.
        shared_cache_unreachable(error, what="a 429's slow-down of the whole subscription")
    return until

"""Interactive calls (Send Request, Send test, the mapping preview) in flight: a few per environment across all web
processes (slots in the shared cache, each with an owner and an expiry), and fewer per process than it has threads.

While the shared cache is unreachable the per-environment limit is not applied and the per-process cap alone holds.
"""

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from config.errors import ApiError
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from tenancy import error_codes

# A slot frees as soon as any call in flight ends, so a refused client may try again soon.
RETRY_AFTER_SECONDS = 1
# The longest an interactive call can hold a slot: a wait for another worker's OAuth token fetch, a fetch of its
# own and the request, each within the request timeout, plus a margin. Past that the holder died with it.
SLOT_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class _Slot:
    key: str
    owner: str


# Fewer than the web process has threads (Procfile), so interactive calls of all environments together leave
# threads for ingest and the rest of the API.
_process_slots = threading.BoundedSemaphore(settings.OUTFLOW_INTERACTIVE_CALLS_PER_PROCESS)


def _slot_seconds() -> int:
    return int(3 * settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS) + SLOT_MARGIN_SECONDS


def _environment_slot_take(*, environment_id) -> _Slot | None:
    """A free slot of the environment's interactive calls; None when the cache is unreachable (fail open)."""
    if not shared_cache_usable():
        return None
    owner = secrets.token_hex(8)
    try:
        for index in range(settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT):
            key = f"outflow:interactive:{environment_id}:{index}"
            if cache.add(key, owner, timeout=_slot_seconds()):
                return _Slot(key=key, owner=owner)
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="the per-environment limit of interactive calls")
        return None
    raise ApiError(
        error_codes.RATE_LIMITED,
        f"at most {settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT} interactive calls (Send Request, Send test, "
        "mapping preview) of an environment run at once; try again shortly",
        status_code=429,
        retry_after=RETRY_AFTER_SECONDS,
    )


def _environment_slot_free(slot: _Slot | None) -> None:
    if slot is None or not shared_cache_usable():
        return
    try:
        # Only our own: a call that outlived its slot must not free the slot another call took since.
        if cache.get(slot.key) == slot.owner:
            cache.delete(slot.key)
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="freeing an interactive call slot (it expires instead)")


@contextmanager
def interactive_call(*, environment_id) -> Iterator[None]:
    """Hold one of the environment's and one of this process's interactive call slots for the block, or refuse.

    Past the environment's limit: 429 `rate_limited`, checked first so that an environment over its own limit
    always hears so; past the process's cap: 503 `unavailable` (the server is busy, not the environment at
    fault). Both with Retry-After.
    """
    slot = _environment_slot_take(environment_id=environment_id)
    try:
        if not _process_slots.acquire(blocking=False):
            raise ApiError(
                error_codes.UNAVAILABLE,
                "the server is busy with other interactive calls; try again shortly",
                status_code=503,
                retry_after=RETRY_AFTER_SECONDS,
            )
        try:
            yield
        finally:
            _process_slots.release()
    finally:
        _environment_slot_free(slot)

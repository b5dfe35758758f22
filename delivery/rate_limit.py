"""A subscription's rate limit, shared by every worker process and thread: one permit per request, from Redis."""

import itertools
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache, caches

from config.redis_cache import RedisCache
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from delivery.in_flight import slow_down_key

_SCRIPT = (Path(__file__).parent / "rate_limit.lua").read_text()
# Members of the permit log: unique across processes and hosts without a round trip (the process id tells apart the
# children a prefork pool forks after this module was imported).
_PROCESS = secrets.token_hex(4)
_calls = itertools.count()


def rate_window_seconds() -> float:
    """The window no more than `rate_limit` permits fall in: a second, plus a margin for what lies between a
    permit and the request's arrival (the send, the receiver's clock), so that the receiver counts no second over."""
    return 1.0 + settings.OUTFLOW_RATE_LIMIT_MARGIN_SECONDS


@dataclass(frozen=True, slots=True)
class PermitRefused:
    """No permit now: the seconds until one may be, and whether this batch is the one that comes back then (one per
    wait is; the others wait as rows, woken by the batch that finishes next or by the sweeper)."""

    wait: float
    wakes: bool


@dataclass(frozen=True, slots=True)
class RateRoom:
    """How many of the requests a batch has ready may go now, and when fewer than all, the wait for the rest."""

    requests: int
    rest: PermitRefused | None


def rate_permit_take(*, subscription_id, rate_limit: int) -> PermitRefused | None:
    """Take a permit to send one request to the subscription's endpoint now (None), or say why not: the limit is
    reached, or the endpoint asked to be left alone.

    While Redis is unreachable no permit is granted: the limit protects the customer's endpoint, so the delivery
    waits OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS (its batch coming back then, or the sweeper sending its rows)
    rather than risk going over it.
    """
    answer = _script_run(subscription_id, rate_limit, "take", f"{_PROCESS}:{os.getpid()}:{next(_calls)}")
    if isinstance(answer, PermitRefused):
        return answer
    taken, wait_us, wakes = answer
    return None if taken else PermitRefused(wait=wait_us / 1_000_000, wakes=bool(wakes))


def subscription_permit_take(*, subscription) -> PermitRefused | None:
    """A permit of the subscription's rate limit for one request now (None, also when it has no limit), or why not."""
    if subscription.rate_limit is None:
        return None
    return rate_permit_take(subscription_id=subscription.pk, rate_limit=subscription.rate_limit)


def rate_room(*, subscription_id, rate_limit: int, ready: int) -> RateRoom:
    """How many of `ready` requests may go now, taking no permit: a batch claims and maps only those (a backlog
    behind a low limit would otherwise be claimed and mapped a batch at a time for each request sent), then takes a
    permit before each. Batches running at once may each be told the same room: the permits settle it."""
    answer = _script_run(subscription_id, rate_limit, "room", ready)
    if isinstance(answer, PermitRefused):
        return RateRoom(requests=0, rest=answer)
    requests, wait_us, wakes = answer
    rest = PermitRefused(wait=wait_us / 1_000_000, wakes=bool(wakes)) if requests < ready else None
    return RateRoom(requests=requests, rest=rest)


def _script_run(subscription_id, rate_limit: int, mode: str, argument) -> list | PermitRefused:
    """The limiter script's answer, or the refusal while Redis is unreachable."""
    shared = caches["default"]
    if not shared_cache_usable():
        return _unavailable()
    try:
        if not isinstance(shared, RedisCache):
            return _local_script_run(subscription_id, rate_limit, mode, argument)
        return shared.script_run(
            _SCRIPT,
            keys=[_log_key(subscription_id), slow_down_key(subscription_id), _waker_key(subscription_id)],
            args=[rate_limit, int(rate_window_seconds() * 1_000_000), mode, argument],
        )
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="rate-limit permits (none granted: rate-limited deliveries wait)")
        return _unavailable()


def _unavailable() -> PermitRefused:
    # The batch comes back itself: marking its rows as waiting would need the cache that is down.
    return PermitRefused(wait=settings.OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS, wakes=True)


def _log_key(subscription_id) -> str:
    return f"outflow:rate-limit:{{{subscription_id}}}"


def _waker_key(subscription_id) -> str:
    return f"outflow:rate-limit-waker:{{{subscription_id}}}"


# `make run`'s file cache has no scripts and is not shared atomically; its one worker process keeps the log in
# memory (what holds for every thread of that process, the only one that sends).
_local_logs: dict = defaultdict(deque)
_local_wakers: dict = {}
_local_lock = threading.Lock()


def _local_script_run(subscription_id, rate_limit: int, mode: str, argument) -> list:
    """What the script answers, for one process."""
    slow_ms = cache.get(slow_down_key(subscription_id))
    window = rate_window_seconds()
    with _local_lock:
        now = time.monotonic()
        log = _local_logs[subscription_id]
        while log and log[0] <= now - window:
            log.popleft()
        free = max(0, rate_limit - len(log))
        if slow_ms is not None and slow_ms / 1000 > time.time():
            granted, wait = 0, slow_ms / 1000 - time.time()
        elif mode == "take" and free:
            log.append(now)
            return [1, 0, 0]
        elif mode == "room" and free >= argument:
            return [argument, 0, 0]
        else:
            granted = free if mode == "room" else 0
            leaving = max(0, len(log) - rate_limit)
            leaves_at = log[leaving] if leaving < len(log) else now
            wait = max(1e-6, leaves_at + window - now)
        wakes = _local_wakers.get(subscription_id, 0.0) <= now
        if wakes:
            _local_wakers[subscription_id] = now + wait
        return [granted, int(wait * 1_000_000), int(wakes)]

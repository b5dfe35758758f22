"""A subscription's rate limit, shared by every worker process and thread: one permit per request, from Redis."""

import itertools
import os
import secrets
from dataclasses import dataclass

from django.conf import settings

from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from delivery.coordination import coordination

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
    """No permit now: the seconds until one may be."""

    wait: float


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
    taken, wait_us = answer
    return None if taken else PermitRefused(wait=wait_us / 1_000_000)


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
    requests, wait_us = answer
    rest = PermitRefused(wait=wait_us / 1_000_000) if requests < ready else None
    return RateRoom(requests=requests, rest=rest)


def _script_run(subscription_id, rate_limit: int, mode: str, argument) -> list | PermitRefused:
    """The limiter's answer, or the refusal while the cache is unreachable."""
    if not shared_cache_usable():
        return _unavailable()
    try:
        return coordination().rate_limiter(
            subscription_id=subscription_id,
            rate_limit=rate_limit,
            window_us=int(rate_window_seconds() * 1_000_000),
            mode=mode,
            argument=argument,
        )
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="rate-limit permits (none granted: rate-limited deliveries wait)")
        return _unavailable()


def _unavailable() -> PermitRefused:
    return PermitRefused(wait=settings.OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS)

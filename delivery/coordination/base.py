"""The keys that coordinate a subscription's drains across workers, as one small interface.

Every key is a hint, never the truth: the rows are. Losing all of them (a Redis restart) delays deliveries until the
sweeper wakes their subscriptions, and never loses or reorders one (an ordered subscription's order is kept by the
database, `delivery/claims.py`).

- slot n (n < the in-flight limit): a drain runs; held with a time to live. Lost: one more drain may run.
- wake: a drain was asked for and has not started (the debounce), or one ran and found every slot held (the drain
  that frees one publishes again). Lost: the next wake publishes. A wake whose task never runs (lost with a worker)
  holds back the others until the key runs out (OUTFLOW_REQUEUE_GRACE_SECONDS); the sweeper wakes it after.
- circuit: the endpoint stopped answering; until when it is left alone. Lost: drains try it at once.
- slow-down: the endpoint answered 429 with Retry-After; until when. Lost: its next 429 sets it again.
- rate limit: the permits granted in the last window. Lost: one window more may go.

Two classes implement it, chosen once in settings (`OUTFLOW_COORDINATION_BACKEND`), as Django chooses a cache or
session backend: `redis.RedisCoordination` (atomic scripts, shared by every worker) and `local.LocalCoordination`
(Django's cache, for `make run`'s one machine).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings


@dataclass(frozen=True, slots=True)
class Rest:
    """The endpoint is left alone until a time: its circuit is open, or it asked to be slowed down."""

    until: datetime
    reason: str  # "endpoint_unreachable" or "endpoint_slow_down"


@dataclass(frozen=True, slots=True)
class Slot:
    """An in-flight slot a drain holds: its subscription, its index and the token that says this drain holds it; and
    what held the endpoint when the slot was taken or last extended (read with it, in the same round trip)."""

    subscription_id: str
    index: int
    owner: str
    rest: Rest | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionKeys:
    """What the keys say of one subscription, read at once (for the sweeper and for explain)."""

    slots_held: int
    rest: Rest | None


def ms_to_datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def mark_seconds(slot_seconds: float) -> float:
    """How long the mark of a drain that found every slot held lasts: until each holder has freed its slot or
    claimed again (within a slot's time to live), and at least a wake's debounce."""
    return max(settings.OUTFLOW_REQUEUE_GRACE_SECONDS, slot_seconds)


def rest_of(*, circuit_ms: int | None, slow_down_ms: int | None, now_ms: int) -> Rest | None:
    """The later of a circuit and a slow-down still running, if either is (a key not set: None, or below 0)."""
    candidates = [
        (until, reason)
        for until, reason in ((circuit_ms, "endpoint_unreachable"), (slow_down_ms, "endpoint_slow_down"))
        if until is not None and until > now_ms
    ]
    if not candidates:
        return None
    until, reason = max(candidates)
    return Rest(until=ms_to_datetime(until), reason=reason)


class Coordination:
    """The interface. Each method may raise the cache's errors (`config.shared_cache.CACHE_ERRORS`): callers decide
    what doing without it means for them."""

    def slot_take(self, *, subscription_id, slots: int, seconds: float) -> Slot | None:
        """One of the subscription's `slots` in-flight slots, held for `seconds`, or None when all are held. Taking
        one clears the subscription's wake: the drain is about to look at the rows, so later wakes publish again.
        Finding none marks the wake so (for `mark_seconds`), for `slot_free`."""
        raise NotImplementedError

    def slot_extend(self, *, slot: Slot, seconds: float) -> Slot | None:
        """The slot held `seconds` from now, with what holds the endpoint now; None if it expired meanwhile (and may
        be another drain's)."""
        raise NotImplementedError

    def slot_free(self, *, slot: Slot) -> bool:
        """Free the slot (only while this drain holds it); whether a drain ran meanwhile and found every slot held,
        so that the caller publishes again (the wake then counts as queued: another holder freeing its slot publishes
        none). A wake whose drain has not run yet is left to that drain: publishing another would find nothing."""
        raise NotImplementedError

    def wake_claim(self, *, subscription_id, seconds: float) -> bool:
        """Note that a drain is asked for; True if none was (the caller publishes one), False if one is on its way.
        The note lasts `seconds` at most, so a published drain that is lost delays the next wake that long."""
        raise NotImplementedError

    def wake_clear(self, *, subscription_id) -> None:
        """Forget a wake that was not published."""
        raise NotImplementedError

    def circuit_trip(self, *, subscription_id, until: datetime) -> None:
        """Leave the endpoint alone until a time (it stopped answering)."""
        raise NotImplementedError

    def slow_down(self, *, subscription_id, until: datetime) -> None:
        """Send the subscription nothing until a time (a 429 with Retry-After); a later end already set stays."""
        raise NotImplementedError

    def rest(self, *, subscription_id) -> Rest | None:
        """Until when the endpoint is left alone, and why, if it is."""
        return self.keys_of(subscription_ids=[subscription_id])[subscription_id].rest

    def keys_of(self, *, subscription_ids: list) -> dict:
        """`SubscriptionKeys` of each of these subscriptions, by id (as given)."""
        raise NotImplementedError

    def rate_limiter(self, *, subscription_id, rate_limit: int, window_us: int, mode: str, argument) -> list:
        """The rate limiter's answer (`rate_limit.lua`): [granted, microseconds to wait]."""
        raise NotImplementedError

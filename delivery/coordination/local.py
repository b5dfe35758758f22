"""Coordination keys in Django's cache, for `make run`'s one machine (its file cache is shared by the processes there).

The cache has no scripts, so a step of several keys is several calls: a wake that comes in between a drain's freeing
its slot and its look at the wake key waits for the sweeper (`OUTFLOW_SWEEP_INTERVAL_SECONDS`). The rate limiter's
log lives in this process: under `make run` one worker process sends.
"""

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import replace
from datetime import datetime

from django.conf import settings
from django.core.cache import caches

from delivery.coordination import keys
from delivery.coordination.base import Coordination, Slot, SubscriptionKeys, mark_seconds, rest_of


def _timeout(seconds: float) -> int:
    return int(seconds) + 1


class LocalCoordination(Coordination):
    def __init__(self) -> None:
        self._rate_logs: dict = defaultdict(deque)
        self._rate_lock = threading.Lock()

    @property
    def cache(self):
        return caches["default"]

    @property
    def slots(self) -> int:
        return settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION

    def slot_take(self, *, subscription_id, slots: int, seconds: float) -> Slot | None:
        owner = secrets.token_hex(8)
        # Marked before the look at the slots (no script makes the two one step): a holder that frees its slot
        # after this drain found it held then sees the mark and passes the wake on.
        self.cache.set(
            keys.wake_key(subscription_id),
            keys.WAKE_FOUND_NO_SLOT,
            timeout=_timeout(mark_seconds(seconds)),
        )
        for index in range(slots):
            if self.cache.add(keys.slot_key(subscription_id, index), owner, timeout=_timeout(seconds)):
                self.cache.delete(keys.wake_key(subscription_id))
                rest = self.rest(subscription_id=subscription_id)
                return Slot(subscription_id=str(subscription_id), index=index, owner=owner, rest=rest)
        return None

    def slot_extend(self, *, slot: Slot, seconds: float) -> Slot | None:
        key = keys.slot_key(slot.subscription_id, slot.index)
        if self.cache.get(key) == slot.owner and self.cache.touch(key, _timeout(seconds)):
            return replace(slot, rest=self.rest(subscription_id=slot.subscription_id))
        return None

    def slot_free(self, *, slot: Slot) -> bool:
        key = keys.slot_key(slot.subscription_id, slot.index)
        if self.cache.get(key) == slot.owner:
            self.cache.delete(key)
        wake = keys.wake_key(slot.subscription_id)
        if self.cache.get(wake) != keys.WAKE_FOUND_NO_SLOT:
            return False
        self.cache.set(wake, keys.WAKE_QUEUED, timeout=_timeout(settings.OUTFLOW_REQUEUE_GRACE_SECONDS))
        return True

    def wake_claim(self, *, subscription_id, seconds: float) -> bool:
        return self.cache.add(keys.wake_key(subscription_id), keys.WAKE_QUEUED, timeout=_timeout(seconds))

    def wake_clear(self, *, subscription_id) -> None:
        self.cache.delete(keys.wake_key(subscription_id))

    def circuit_trip(self, *, subscription_id, until: datetime) -> None:
        seconds = until.timestamp() - time.time()
        if seconds > 0:
            self.cache.set(keys.circuit_key(subscription_id), int(until.timestamp() * 1000), timeout=_timeout(seconds))

    def slow_down(self, *, subscription_id, until: datetime) -> None:
        seconds = until.timestamp() - time.time()
        if seconds > 0 and (self.cache.get(keys.slow_down_key(subscription_id)) or 0) < until.timestamp() * 1000:
            self.cache.set(
                keys.slow_down_key(subscription_id), int(until.timestamp() * 1000), timeout=_timeout(seconds + 1)
            )

    def keys_of(self, *, subscription_ids: list) -> dict:
        now_ms = int(time.time() * 1000)
        answer = {}
        for subscription_id in subscription_ids:
            slot_keys = [keys.slot_key(subscription_id, index) for index in range(self.slots)]
            circuit, slow_down = keys.circuit_key(subscription_id), keys.slow_down_key(subscription_id)
            values = self.cache.get_many([*slot_keys, circuit, slow_down])
            answer[subscription_id] = SubscriptionKeys(
                slots_held=sum(key in values for key in slot_keys),
                rest=rest_of(circuit_ms=values.get(circuit), slow_down_ms=values.get(slow_down), now_ms=now_ms),
            )
        return answer

    def rate_limiter(self, *, subscription_id, rate_limit: int, window_us: int, mode: str, argument) -> list:
        """What `rate_limit.lua` answers, for this process."""
        slow_ms = self.cache.get(keys.slow_down_key(subscription_id))
        window = window_us / 1_000_000
        with self._rate_lock:
            now = time.monotonic()
            log = self._rate_logs[subscription_id]
            while log and log[0] <= now - window:
                log.popleft()
            free = max(0, rate_limit - len(log))
            if slow_ms is not None and slow_ms / 1000 > time.time():
                granted, wait = 0, slow_ms / 1000 - time.time()
            elif mode == "take" and free:
                log.append(now)
                return [1, 0]
            elif mode == "room" and free >= argument:
                return [argument, 0]
            else:
                granted = free if mode == "room" else 0
                leaving = max(0, len(log) - rate_limit)
                leaves_at = log[leaving] if leaving < len(log) else now
                wait = max(1e-6, leaves_at + window - now)
            return [granted, int(wait * 1_000_000)]

"""Coordination keys in Redis, shared by every worker: each step one atomic script (the `.lua` files here)."""

import secrets
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import caches

from delivery.coordination import keys
from delivery.coordination.base import Coordination, Rest, Slot, SubscriptionKeys, mark_seconds, rest_of

_SCRIPTS = {path.stem: path.read_text() for path in Path(__file__).parent.glob("*.lua")}


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _until_ms(until: datetime) -> int:
    return int(until.timestamp() * 1000)


def _rest(circuit_ms: int, slow_down_ms: int) -> Rest | None:
    """What a script read of the circuit and the slow-down (-1: not set), by this process's clock."""
    return rest_of(circuit_ms=circuit_ms, slow_down_ms=slow_down_ms, now_ms=int(time.time() * 1000))


class RedisCoordination(Coordination):
    @property
    def cache(self):
        return caches["default"]

    @property
    def slots(self) -> int:
        return settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION

    def _run(self, script: str, *, keys: list[str], args: list, client=None):
        return self.cache.script_run(_SCRIPTS[script], keys=keys, args=args, client=client)

    def _slot_keys(self, subscription_id) -> list[str]:
        return [keys.slot_key(subscription_id, index) for index in range(self.slots)]

    def slot_take(self, *, subscription_id, slots: int, seconds: float) -> Slot | None:
        owner = secrets.token_hex(8)
        slot_keys = self._slot_keys(subscription_id)[:slots]
        taken, circuit, slow_down = self._run(
            "slot_take",
            keys=[*slot_keys, keys.wake_key(subscription_id), *self._rest_keys(subscription_id)],
            args=[owner, _ms(seconds), keys.WAKE_FOUND_NO_SLOT, _ms(mark_seconds(seconds))],
        )
        if not taken:
            return None
        return Slot(subscription_id=str(subscription_id), index=taken - 1, owner=owner, rest=_rest(circuit, slow_down))

    def slot_extend(self, *, slot: Slot, seconds: float) -> Slot | None:
        key = keys.slot_key(slot.subscription_id, slot.index)
        held, circuit, slow_down = self._run(
            "slot_extend", keys=[key, *self._rest_keys(slot.subscription_id)], args=[slot.owner, _ms(seconds)]
        )
        return replace(slot, rest=_rest(circuit, slow_down)) if held else None

    def slot_free(self, *, slot: Slot) -> bool:
        slot_key, wake_key = keys.slot_key(slot.subscription_id, slot.index), keys.wake_key(slot.subscription_id)
        return bool(
            self._run(
                "slot_free", keys=[slot_key, wake_key], args=[slot.owner, keys.WAKE_FOUND_NO_SLOT, keys.WAKE_QUEUED]
            )
        )

    def wake_claim(self, *, subscription_id, seconds: float) -> bool:
        return bool(
            self.cache.raw_client().set(
                self._named(keys.wake_key(subscription_id)), keys.WAKE_QUEUED, nx=True, px=_ms(seconds)
            )
        )

    def wake_clear(self, *, subscription_id) -> None:
        self.cache.raw_client().delete(self._named(keys.wake_key(subscription_id)))

    def circuit_trip(self, *, subscription_id, until: datetime) -> None:
        milliseconds = _until_ms(until) - int(time.time() * 1000)
        if milliseconds > 0:
            self.cache.raw_client().set(
                self._named(keys.circuit_key(subscription_id)), _until_ms(until), px=milliseconds
            )

    def slow_down(self, *, subscription_id, until: datetime) -> None:
        # Kept a second past its end, so a reader whose clock runs a little behind still sees it.
        milliseconds = _until_ms(until) - int(time.time() * 1000) + 1000
        if milliseconds > 0:
            self._run("slow_down", keys=[keys.slow_down_key(subscription_id)], args=[_until_ms(until), milliseconds])

    def _rest_keys(self, subscription_id) -> list[str]:
        return [keys.circuit_key(subscription_id), keys.slow_down_key(subscription_id)]

    def _state_keys(self, subscription_id) -> list[str]:
        return [*self._slot_keys(subscription_id), *self._rest_keys(subscription_id)]

    def keys_of(self, *, subscription_ids: list) -> dict:
        pipeline = self.cache.raw_client().pipeline(transaction=False)
        for subscription_id in subscription_ids:
            self._run("state", keys=self._state_keys(subscription_id), args=[], client=pipeline)
        return {
            subscription_id: SubscriptionKeys(slots_held=held, rest=_rest(circuit, slow_down))
            for subscription_id, (held, circuit, slow_down) in zip(subscription_ids, pipeline.execute(), strict=True)
        }

    def rate_limiter(self, *, subscription_id, rate_limit: int, window_us: int, mode: str, argument) -> list:
        return self._run(
            "rate_limit",
            keys=[keys.rate_log_key(subscription_id), keys.slow_down_key(subscription_id)],
            args=[rate_limit, window_us, mode, argument],
        )

    def _named(self, key: str) -> str:
        return self.cache.make_and_validate_key(key)

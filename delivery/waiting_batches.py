"""The batches of a subscription that found every in-flight slot taken, waiting in Redis for a batch in flight to
send them in its slot (delivery/attempts.py): a list of delivery ids per subscription, oldest first.

Their rows are not written while they wait: they stay queued, as if their task were in the broker. So a batch
lost from here (Redis restarted) is sent again by the sweeper after the requeue grace, as a lost task is; and one
that waited longer than the grace is sent again by the sweeper anyway, so a taker drops it rather than send its rows
a second way. The list is capped: past the cap, and wherever Redis cannot hold it, a batch waits as rows.
"""

from django.conf import settings
from django.core.cache import caches

from config.redis_cache import RedisCache
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable

# Batches of one subscription waiting here at most (each up to OUTFLOW_DELIVERY_BATCH ids of 36 characters).
MAX_WAITING_BATCHES = 100

# Each entry is "<Redis time in ms>|<ids>", stamped by the server's clock, the one the taker compares it by.
_PUSH = """
if redis.call('llen', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local now = redis.call('time')
redis.call('rpush', KEYS[1], (now[1] * 1000 + math.floor(now[2] / 1000)) .. '|' .. ARGV[1])
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""
_POP = """
local now = redis.call('time')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
while true do
  local entry = redis.call('lpop', KEYS[1])
  if not entry then return false end
  local bar = string.find(entry, '|', 1, true)
  if now_ms - tonumber(string.sub(entry, 1, bar - 1)) <= tonumber(ARGV[1]) then
    return string.sub(entry, bar + 1)
  end
end
"""


def _key(subscription_id) -> str:
    return f"outflow:waiting-batches:{{{subscription_id}}}"


def _redis() -> RedisCache | None:
    shared = caches["default"]
    return shared if isinstance(shared, RedisCache) and shared_cache_usable() else None


def waiting_batch_push(*, subscription_id, delivery_ids: list) -> bool:
    """Hand a batch that found every slot taken to the subscription's batches in flight. False where it cannot wait
    here (no Redis: the file cache of `make run`; Redis unreachable; the subscription's list full): the caller
    makes it wait as rows."""
    if (shared := _redis()) is None:
        return False
    grace = settings.OUTFLOW_REQUEUE_GRACE_SECONDS
    try:
        return bool(
            shared.script_run(
                _PUSH,
                keys=[_key(subscription_id)],
                args=[",".join(str(pk) for pk in delivery_ids), MAX_WAITING_BATCHES, int(grace) + 1],
            )
        )
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="handing a waiting batch to the batches in flight")
        return False


def waiting_batch_pop(*, subscription_id) -> list[str]:
    """The delivery ids of the subscription's oldest batch that has waited less than the requeue grace (older ones
    are dropped: the sweeper sends their rows); an empty list when none waits, or Redis cannot say."""
    if (shared := _redis()) is None:
        return []
    grace_ms = int(settings.OUTFLOW_REQUEUE_GRACE_SECONDS * 1000)
    try:
        ids = shared.script_run(_POP, keys=[_key(subscription_id)], args=[grace_ms])
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="sending the batches waiting for a slot")
        return []
    return ids.decode().split(",") if ids else []

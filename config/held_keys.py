"""Shared-cache keys one owner holds (in-flight slots, OAuth fetch locks): only their owner frees or extends them."""

from django.core.cache import caches

from config.redis_cache import RedisCache


def held_key_free(*, key: str, owner: str) -> bool:
    """Delete the key if it still holds this owner's value (it may have expired and been taken by another)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return cache.delete_if_holds(key, owner)
    # Other caches (the file cache of `make run`, on one machine) have no compare-and-delete: read, then delete.
    return cache.get(key) == owner and cache.delete(key)


def held_key_extend(*, key: str, owner: str, seconds: float) -> bool:
    """Make the key last `seconds` from now if it still holds this owner's value; whether it did."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return cache.touch_if_holds(key, owner, int(seconds) + 1)
    return cache.get(key) == owner and cache.touch(key, int(seconds) + 1)

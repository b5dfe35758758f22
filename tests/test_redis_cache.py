"""The Redis cache backend: Django's, with its redis-py client made once per pool instead of once per call."""

from django.core.cache import caches

from config.redis_cache import RedisCache


def test_the_cache_reuses_one_client_and_still_works():
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    assert backend._cache.get_client() is backend._cache.get_client(write=True)
    assert backend.add("outflow:test:reuse", 1, timeout=5) and not backend.add("outflow:test:reuse", 2, timeout=5)
    assert backend.get("outflow:test:reuse") == 1
    assert backend.delete("outflow:test:reuse") and backend.get("outflow:test:reuse") is None

"""Django's Redis cache, with each redis-py client made once per connection pool instead of once per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every cache call; with redis-py 8 that
costs about 180 us of CPU (its response-callback tables are rebuilt), more than the round trip it wraps. A
client is thread-safe (its pool hands each command a connection), so one per pool serves every thread.

It also frees and extends a key only while it holds a given value, in one step on the server: what a lock's
owner needs so that it never frees or extends a lock that expired and was taken by another; and runs a Lua script
over cache keys (the rate limiter's), sent once and then called by its SHA.
"""

from django.core.cache.backends import redis

_DELETE_IF_HOLDS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_EXPIRE_IF_HOLDS = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client

    def delete_if_holds(self, key, value) -> bool:
        client = self.get_client(key, write=True)
        return bool(client.eval(_DELETE_IF_HOLDS, 1, key, self._serializer.dumps(value)))

    def touch_if_holds(self, key, value, timeout: int) -> bool:
        client = self.get_client(key, write=True)
        return bool(client.eval(_EXPIRE_IF_HOLDS, 1, key, self._serializer.dumps(value), timeout))

    def script_run(self, script: str, keys: list[str], args: list, client=None):
        if client is None:
            client = self.get_client(write=True)
        registered = self._scripts.get(script)
        if registered is None:
            registered = self._scripts.setdefault(script, self.get_client(write=True).register_script(script))
        return registered(keys=keys, args=args, client=client)


class RedisCache(redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def delete_if_holds(self, key, value, version=None) -> bool:
        """Delete the key only while it holds this value."""
        return self._cache.delete_if_holds(self.make_and_validate_key(key, version=version), value)

    def touch_if_holds(self, key, value, timeout: int, version=None) -> bool:
        """Set the key's time to live (seconds) only while it holds this value."""
        return self._cache.touch_if_holds(self.make_and_validate_key(key, version=version), value, timeout)

    def script_run(self, script: str, *, keys: list[str], args: list, client=None):
        """Run a Lua script atomically on the server over these cache keys (named as the cache names them); with a
        `client` that is a pipeline, queue it there."""
        return self._cache.script_run(script, [self.make_and_validate_key(key) for key in keys], args, client)

    def raw_client(self):
        """The redis-py client, for keys whose values are plain Redis values rather than the cache's serialized ones
        (name them with `make_and_validate_key`)."""
        return self._cache.get_client(write=True)

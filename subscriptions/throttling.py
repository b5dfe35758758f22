"""API request rates per environment: DRF throttles counting in the shared cache, failing open while it is down.

Referenced by REST_FRAMEWORK's settings, so this module must not import rest_framework.views (nor config.errors,
which does): DRF resolves its default throttles while that module loads.
"""

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

# Redis (production) or the file cache (make run) failing: a limit is then not applied, nothing is refused.
CACHE_ERRORS = (RedisError, OSError)
# One warning a minute per process while the cache is down, not one per request.
CACHE_WARNING_INTERVAL_SECONDS = 60.0

_last_cache_warning = 0.0


def shared_cache_unreachable(error: Exception, *, what: str) -> None:
    global _last_cache_warning
    now = time.monotonic()
    if now - _last_cache_warning >= CACHE_WARNING_INTERVAL_SECONDS:
        _last_cache_warning = now
        logger.warning("shared cache unreachable (%s): %s not applied", type(error).__name__, what)


class EnvironmentRateThrottle(SimpleRateThrottle):
    """Requests of the key's environment per period of the scope's rate, one counter per fixed window.

    A counter (INCR) rather than DRF's list of request times: at ingest rates that list would be read and
    written whole on every request, and its read-then-write loses counts between processes.
    """

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None
        window = int(self.timer() // self.duration)
        return f"outflow:rate:{self.scope}:{request.auth.pk}:{window}"

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            count = _window_count(key, timeout=self.duration + 1)
        except CACHE_ERRORS as error:
            shared_cache_unreachable(error, what=f"the {self.scope} rate")
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return self.duration - self.timer() % self.duration


class ApiRateThrottle(EnvironmentRateThrottle):
    scope = "api"


class IngestRateThrottle(EnvironmentRateThrottle):
    scope = "ingest"


def _window_count(key: str, *, timeout: int) -> int:
    """The window's counter after counting this request."""
    try:
        return cache.incr(key)
    except ValueError:
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)

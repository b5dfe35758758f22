"""API request rates per environment: DRF throttles counting in the shared cache, failing open while it is down.

Referenced by REST_FRAMEWORK's settings, so this module must not import rest_framework.views (nor config.errors,
which does): DRF resolves its default throttles while that module loads.
"""

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable


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
        if key is None or not shared_cache_usable():
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

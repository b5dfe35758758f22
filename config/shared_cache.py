"""The shared cache failing: the errors that say it is unreachable, one warning a minute, and a pause before the
next try. Its callers here can do without it (API rates, interactive call limits, the OAuth token cache: they fail
open). While Redis hangs each call would wait out the socket timeout (`CACHE_TIMEOUT_SECONDS`); after a failure a
process leaves the cache alone for `RETRY_SECONDS`, so a hung cache costs one timeout per pause, not one per call.
"""

import logging
import time

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Redis (production) or the file cache (make run) failing.
CACHE_ERRORS = (RedisError, OSError)
RETRY_SECONDS = 2.0
WARNING_INTERVAL_SECONDS = 60.0

_retry_at = 0.0
_last_warning = 0.0


def shared_cache_usable() -> bool:
    """False while this process pauses after the cache failed: callers do without it, as if it had failed."""
    return time.monotonic() >= _retry_at


def shared_cache_unreachable(error: Exception, *, what: str) -> None:
    """Note a failure: the cache is left alone for a while, and a warning says what is not applied meanwhile."""
    global _retry_at, _last_warning
    now = time.monotonic()
    _retry_at = now + RETRY_SECONDS
    if now - _last_warning >= WARNING_INTERVAL_SECONDS:
        _last_warning = now
        logger.warning("shared cache unreachable (%s): %s not applied", type(error).__name__, what)

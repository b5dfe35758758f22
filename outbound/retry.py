"""The back-off schedule (pure): delay(n) = min(max, base × 2^(n−1)) ± 20% jitter, and Retry-After."""

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

JITTER = 0.2


def backoff_delay(retry_number: int, *, base: float, max_delay: float, rng=random.random) -> float:
    delay = min(max_delay, base * 2 ** (retry_number - 1))
    return delay * (1 - JITTER + 2 * JITTER * rng())


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retry_delay(retry_number: int, *, base: float, max_delay: float, retry_after: float | None) -> float:
    """The back-off delay, or Retry-After when it asks for longer (never past max_delay)."""
    delay = backoff_delay(retry_number, base=base, max_delay=max_delay)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, max_delay)
    return delay

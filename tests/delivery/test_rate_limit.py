"""The rate limiter against real Redis: permits per window, many threads at once, a slow-down, Redis unreachable."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.utils import timezone

from delivery.coordination import coordination
from delivery.rate_limit import PermitRefused, RateRoom, rate_permit_take, rate_room, rate_window_seconds


@pytest.fixture
def subscription_id():
    return uuid.uuid4()


def _slow_down(subscription_id, seconds: float):
    until = timezone.now() + timedelta(seconds=seconds)
    coordination().slow_down(subscription_id=subscription_id, until=until)
    return until


def _redis_unreachable(settings) -> None:
    """The cache on a port nothing listens on; a refused permit then waits 7 s."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS = 7.0


def test_the_limit_is_granted_then_refused_until_the_oldest_permit_leaves_the_window(subscription_id):
    assert [rate_permit_take(subscription_id=subscription_id, rate_limit=3) for _ in range(3)] == [None, None, None]
    refused = rate_permit_take(subscription_id=subscription_id, rate_limit=3)
    assert rate_window_seconds() - 0.2 < refused.wait <= rate_window_seconds()

    time.sleep(refused.wait)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) is None, "the oldest left the window"
    time.sleep(0.5)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) is None
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) is None
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) is not None


def test_the_room_counts_what_may_go_now_and_takes_no_permit(subscription_id):
    assert rate_room(subscription_id=subscription_id, rate_limit=3, ready=2) == RateRoom(requests=2, rest=None)
    assert rate_room(subscription_id=subscription_id, rate_limit=3, ready=2) == RateRoom(requests=2, rest=None)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) is None

    room = rate_room(subscription_id=subscription_id, rate_limit=3, ready=100)
    assert room.requests == 2
    # The rest may go once the permit just taken leaves the window.
    assert rate_window_seconds() - 0.2 < room.rest.wait <= rate_window_seconds()

    assert [rate_permit_take(subscription_id=subscription_id, rate_limit=3) for _ in range(2)] == [None, None]
    full = rate_room(subscription_id=subscription_id, rate_limit=3, ready=1)
    assert full.requests == 0 and 0 < full.rest.wait <= rate_window_seconds()


def test_no_room_while_slowed_down_or_while_redis_is_unreachable(subscription_id, settings):
    _slow_down(subscription_id, 30)
    slowed = rate_room(subscription_id=subscription_id, rate_limit=10, ready=5)
    assert slowed.requests == 0 and slowed.rest.wait > 28

    _redis_unreachable(settings)
    assert rate_room(subscription_id=uuid.uuid4(), rate_limit=10, ready=5) == RateRoom(
        requests=0, rest=PermitRefused(wait=7.0)
    )


def test_subscriptions_have_limits_of_their_own(subscription_id):
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=1) is None
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=1) is not None
    assert rate_permit_take(subscription_id=uuid.uuid4(), rate_limit=1) is None


def test_many_threads_at_once_never_get_more_than_the_limit_in_a_window(subscription_id):
    granted: list[float] = []
    lock = threading.Lock()
    started = time.time()
    stop = time.monotonic() + 2.5

    def take() -> None:
        while time.monotonic() < stop:
            if rate_permit_take(subscription_id=subscription_id, rate_limit=20) is None:
                with lock:
                    granted.append(time.time())

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The permits as Redis logged them (by its clock, microseconds): at most the limit within the last window.
    shared = caches["default"]
    key = shared.make_key(f"outflow:rate-limit:{{{subscription_id}}}")
    logged = shared._cache.get_client().zrange(key, 0, -1, withscores=True)
    assert 0 < len(logged) <= 20
    assert max(score for _, score in logged) - min(score for _, score in logged) < rate_window_seconds() * 1e6
    # Over the whole run (times read after each answer, so a thread's delay can only shorten the span): a full
    # limit per started window at most, and the windows refill, so a limit per window at least.
    windows = (max(granted) - started) / rate_window_seconds()
    assert len(granted) <= 20 * (int(windows) + 1)
    assert len(granted) >= 20 * int(windows)


def test_a_slow_down_refuses_permits_until_it_ends_and_keeps_the_later_end(subscription_id):
    ends = _slow_down(subscription_id, 0.6)
    _slow_down(subscription_id, 0.1)

    refused = rate_permit_take(subscription_id=subscription_id, rate_limit=100)
    assert 0.4 < refused.wait <= 0.6
    assert abs((coordination().rest(subscription_id=subscription_id).until - ends).total_seconds()) < 0.01

    time.sleep(refused.wait + 0.05)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=100) is None
    assert coordination().rest(subscription_id=subscription_id) is None


def test_while_redis_is_unreachable_no_permit_is_granted_and_nothing_raises(subscription_id, settings):
    reachable = settings.CACHES
    _redis_unreachable(settings)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=5) == PermitRefused(wait=7.0)

    # For the pause after a failure (config/shared_cache.py) the process does not try again: still refused.
    settings.CACHES = reachable
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=5) == PermitRefused(wait=7.0)
    assert not cache.has_key(f"outflow:rate-limit:{{{subscription_id}}}")


def test_make_runs_file_cache_limits_in_the_process(subscription_id, settings, tmp_path):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }
    settings.OUTFLOW_COORDINATION_BACKEND = "delivery.coordination.local.LocalCoordination"
    assert [rate_permit_take(subscription_id=subscription_id, rate_limit=2) for _ in range(2)] == [None, None]
    refused = rate_permit_take(subscription_id=subscription_id, rate_limit=2)
    assert 0 < refused.wait <= rate_window_seconds()

    other = uuid.uuid4()
    _slow_down(other, 0.5)
    assert cache.get(f"outflow:slow-down:{{{other}}}") is not None
    assert 0.3 < rate_permit_take(subscription_id=other, rate_limit=2).wait <= 0.5
    assert rate_room(subscription_id=other, rate_limit=2, ready=1).requests == 0

    third = uuid.uuid4()
    assert rate_room(subscription_id=third, rate_limit=2, ready=2) == RateRoom(requests=2, rest=None)
    assert rate_permit_take(subscription_id=third, rate_limit=2) is None
    room = rate_room(subscription_id=third, rate_limit=2, ready=5)
    assert room.requests == 1 and 0 < room.rest.wait <= rate_window_seconds()

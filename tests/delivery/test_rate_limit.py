"""The rate limiter against real Redis: permits per window, many threads at once, a slow-down, Redis unreachable."""

import threading
import time
import uuid

import pytest
from django.core.cache import cache

from delivery.in_flight import endpoint_resting_until, slow_down_key, subscription_slow_down
from delivery.rate_limit import rate_permit_take, rate_window_seconds


@pytest.fixture
def subscription_id():
    return uuid.uuid4()


def _most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_the_limit_is_granted_then_refused_until_the_oldest_permit_leaves_the_window(subscription_id):
    assert [rate_permit_take(subscription_id=subscription_id, rate_limit=3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rate_permit_take(subscription_id=subscription_id, rate_limit=3)
    assert rate_window_seconds() - 0.2 < wait <= rate_window_seconds()

    time.sleep(wait)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) == 0.0
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=3) == 0.0


def test_subscriptions_have_limits_of_their_own(subscription_id):
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=1) == 0.0
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=1) > 0
    assert rate_permit_take(subscription_id=uuid.uuid4(), rate_limit=1) == 0.0


def test_many_threads_at_once_never_get_more_than_the_limit_in_a_window(subscription_id):
    granted: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 2.5

    def take() -> None:
        while time.monotonic() < stop:
            if rate_permit_take(subscription_id=subscription_id, rate_limit=20) == 0.0:
                with lock:
                    granted.append(time.monotonic())

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Redis's clock decides; these times were read after each answer, so allow the answers' spread.
    assert _most_in_any_window(granted, rate_window_seconds() - 0.05) <= 20
    # Not starved: the window refills, about 20 permits per window over 2.5 s.
    assert len(granted) >= 40


def test_a_slow_down_refuses_permits_until_it_ends_and_keeps_the_later_end(subscription_id):
    ends = subscription_slow_down(subscription_id=subscription_id, seconds=0.6)
    subscription_slow_down(subscription_id=subscription_id, seconds=0.1)

    wait = rate_permit_take(subscription_id=subscription_id, rate_limit=100)
    assert 0.4 < wait <= 0.6
    assert endpoint_resting_until(subscription_id=subscription_id) == ends

    time.sleep(wait + 0.05)
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=100) == 0.0
    assert endpoint_resting_until(subscription_id=subscription_id) is None


def test_while_redis_is_unreachable_no_permit_is_granted_and_nothing_raises(subscription_id, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS = 7.0
    assert rate_permit_take(subscription_id=subscription_id, rate_limit=5) == 7.0


def test_make_runs_file_cache_limits_in_the_process(subscription_id, settings, tmp_path):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }
    assert [rate_permit_take(subscription_id=subscription_id, rate_limit=2) for _ in range(2)] == [0.0, 0.0]
    assert 0 < rate_permit_take(subscription_id=subscription_id, rate_limit=2) <= rate_window_seconds()

    other = uuid.uuid4()
    subscription_slow_down(subscription_id=other, seconds=0.5)
    assert cache.get(slow_down_key(other)) is not None
    assert 0.3 < rate_permit_take(subscription_id=other, rate_limit=2) <= 0.5

"""The back-off schedule and Retry-After parsing."""

from datetime import UTC, datetime, timedelta

import pytest

from outbound.retry import backoff_delay, retry_after_seconds, retry_delay

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _lowest():
    return 0.0


def _middle():
    return 0.5


def _highest():
    return 1.0


@pytest.mark.parametrize(("retry_number", "expected"), [(1, 10.0), (2, 20.0), (3, 40.0), (4, 80.0), (6, 320.0)])
def test_backoff_without_jitter_doubles_from_base(retry_number, expected):
    assert backoff_delay(retry_number, base=10, max_delay=3600, rng=_middle) == pytest.approx(expected)


def test_backoff_is_capped_at_max_delay_before_jitter():
    assert backoff_delay(20, base=10, max_delay=3600, rng=_middle) == pytest.approx(3600)


def test_backoff_lowest_jitter_is_eighty_percent():
    assert backoff_delay(3, base=10, max_delay=3600, rng=_lowest) == pytest.approx(32.0)


def test_backoff_highest_jitter_is_one_hundred_twenty_percent():
    assert backoff_delay(3, base=10, max_delay=3600, rng=_highest) == pytest.approx(48.0)


def test_backoff_jitter_applies_to_the_capped_delay():
    assert backoff_delay(20, base=10, max_delay=100, rng=_lowest) == pytest.approx(80.0)
    assert backoff_delay(20, base=10, max_delay=100, rng=_highest) == pytest.approx(120.0)


def test_backoff_with_default_rng_stays_within_twenty_percent():
    delays = [backoff_delay(2, base=10, max_delay=3600) for _ in range(200)]

    assert all(16.0 <= delay <= 24.0 for delay in delays)
    assert len(set(delays)) > 1


def test_retry_after_delta_seconds_is_read_as_seconds():
    assert retry_after_seconds("120", now=NOW) == 120.0


def test_retry_after_delta_seconds_tolerates_surrounding_whitespace():
    assert retry_after_seconds("  30 ", now=NOW) == 30.0


def test_retry_after_zero_seconds_is_zero():
    assert retry_after_seconds("0", now=NOW) == 0.0


def test_retry_after_http_date_is_seconds_from_now():
    assert retry_after_seconds("Thu, 01 Jan 2026 12:02:00 GMT", now=NOW) == 120.0


def test_retry_after_http_date_in_the_past_is_zero():
    assert retry_after_seconds("Wed, 31 Dec 2025 12:00:00 GMT", now=NOW) == 0.0


def test_retry_after_http_date_matches_a_formatted_future_time():
    when = NOW + timedelta(minutes=5)

    assert retry_after_seconds(when.strftime("%a, %d %b %Y %H:%M:%S GMT"), now=NOW) == 300.0


@pytest.mark.parametrize("value", [None, "", "   "])
def test_retry_after_absent_is_none(value):
    assert retry_after_seconds(value, now=NOW) is None


@pytest.mark.parametrize("value", ["soon", "1.5", "-5", "120s", "Thu, 99 Foo 2026"])
def test_retry_after_garbage_is_none(value):
    assert retry_after_seconds(value, now=NOW) is None


def test_retry_after_with_a_latin1_superscript_digit_is_none_not_an_error():
    # "²" (byte 0xB2 in a latin-1 decoded header) passes str.isdigit() but float() refuses it.
    assert retry_after_seconds("²", now=NOW) is None


def test_retry_after_longer_than_backoff_wins():
    # Back-off for retry 1 is 10 s ± 20%, at most 12 s.
    assert retry_delay(1, base=10, max_delay=3600, retry_after=100.0) == 100.0


def test_retry_after_shorter_than_backoff_is_ignored():
    delay = retry_delay(1, base=10, max_delay=3600, retry_after=1.0)

    assert 8.0 <= delay <= 12.0


def test_retry_after_is_capped_at_max_delay():
    assert retry_delay(1, base=10, max_delay=3600, retry_after=86400.0) == 3600


def test_retry_delay_without_retry_after_is_the_backoff():
    delay = retry_delay(3, base=10, max_delay=3600, retry_after=None)

    assert 32.0 <= delay <= 48.0


def test_retry_after_of_zero_does_not_shorten_the_backoff():
    delay = retry_delay(2, base=10, max_delay=3600, retry_after=0.0)

    assert 16.0 <= delay <= 24.0

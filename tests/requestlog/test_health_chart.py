"""The 24-hour chart names its first and last hours in the Workbench's one date format, with the day and time zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from requestlog.health_chart import health_svg


def _day(start: datetime) -> list[tuple[datetime, int, int]]:
    return [(start + timedelta(hours=index), index % 3, index % 2) for index in range(24)]


def test_the_first_and_last_labels_carry_their_day_and_time_zone_across_midnight():
    svg = health_svg(_day(datetime(2026, 12, 6, 22, tzinfo=UTC)))
    assert '<text x="0" y="117" font-size="11" class="health-first">2026-12-06 22:00:00 UTC</text>' in svg
    assert 'class="health-last">2026-12-07 21:00:00 UTC</text>' in svg
    assert "<title>2026-12-07 00:00:00 UTC: 2 succeeded, 0 failed</title>" in svg
    assert "<title>Last 24 hours: 24 succeeded, 12 failed</title>" in svg


def test_an_hour_in_another_zone_is_named_in_that_zone():
    svg = health_svg(_day(datetime(2026, 12, 6, 22, tzinfo=ZoneInfo("Europe/Berlin"))))
    assert "2026-12-06 22:00:00 CET</text>" in svg and "2026-12-07 21:00:00 CET</text>" in svg


def test_no_hours_draw_no_labels():
    svg = health_svg([])
    assert "<text" not in svg and "Last 0 hours: 0 succeeded, 0 failed" in svg

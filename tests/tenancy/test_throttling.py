"""API request rates per environment: 429 rate_limited with Retry-After past the rate, ingest on its own rate."""

import pytest

from tenancy import throttling
from tenancy.throttling import EnvironmentRateThrottle
from tests.factories import event
from tests.tenancy.test_interactive_calls import UnreachableCache

# 40 s into a minute: a window of a minute has 20 s left.
NOW = 1_800_000_040.0


@pytest.fixture
def rates(monkeypatch):
    """Three API calls and two ingest calls a minute, in one window that does not move while the test runs."""
    monkeypatch.setattr(EnvironmentRateThrottle, "timer", staticmethod(lambda: NOW))
    monkeypatch.setitem(EnvironmentRateThrottle.THROTTLE_RATES, "api", "3/m")
    monkeypatch.setitem(EnvironmentRateThrottle.THROTTLE_RATES, "ingest", "2/m")


def _ingest(client):
    return client.post("/api/v1/events", event(), format="json")


def test_past_the_api_rate_an_environment_gets_429_and_another_does_not(rates, api, other_api):
    assert [api.get("/api/v1/subscriptions").status_code for _ in range(3)] == [200] * 3
    refused = api.get("/api/v1/subscriptions")
    assert refused.status_code == 429 and refused["Retry-After"] == "20"
    assert refused.json() == {
        "error": {"code": "rate_limited", "message": "Request was throttled. Expected available in 20 seconds."}
    }
    assert api.post("/api/v1/credentials", {}, format="json").status_code == 429
    assert other_api.get("/api/v1/subscriptions").status_code == 200


def test_ingest_has_its_own_rate(rates, api, other_api):
    for _ in range(3):
        api.get("/api/v1/event-types")
    assert api.get("/api/v1/event-types").status_code == 429
    assert [_ingest(api).status_code for _ in range(2)] == [202, 202]
    refused = _ingest(api)
    assert refused.status_code == 429 and refused["Retry-After"] == "20"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert _ingest(other_api).status_code == 202


def test_a_request_without_a_valid_key_is_refused_before_it_is_counted(rates, db, client):
    answers = [client.get("/api/v1/subscriptions", HTTP_AUTHORIZATION="Bearer nope").status_code for _ in range(5)]
    assert answers == [401] * 5


def test_an_unreachable_cache_lets_every_request_through(rates, monkeypatch, api, caplog):
    monkeypatch.setattr(throttling, "cache", UnreachableCache())
    assert [_ingest(api).status_code for _ in range(4)] == [202] * 4
    assert [api.get("/api/v1/subscriptions").status_code for _ in range(5)] == [200] * 5
    warnings = [record for record in caplog.records if "shared cache unreachable" in record.getMessage()]
    assert len(warnings) == 1 and "the ingest rate not applied" in warnings[0].getMessage()


def test_the_default_rates_are_far_above_what_the_suite_and_the_benchmark_send(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"api": "100/s", "ingest": "1000/s"}

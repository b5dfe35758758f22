"""A failed shared cache is left alone a while: a hung Redis costs one socket timeout per pause, not per call."""

import pytest
import redis
from django.core.cache import cache

from config import shared_cache
from credentials.models import Credential
from credentials.oauth import oauth_token
from credentials.services import credential_create
from tenancy import interactive_calls, throttling
from tests.factories import event


class CountingUnreachableCache:
    """Fails every call as Redis does when it is down, and counts the calls that reached it."""

    def __init__(self):
        self.calls = 0

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            self.calls += 1
            raise redis.exceptions.TimeoutError("Timeout reading from socket")

        return fail


@pytest.fixture
def unreachable(monkeypatch):
    down = CountingUnreachableCache()
    for module in (throttling, interactive_calls):
        monkeypatch.setattr(module, "cache", down)
    return down


def test_after_one_failure_api_calls_leave_the_cache_alone_until_the_pause_ends(unreachable, api, monkeypatch, caplog):
    assert [api.post("/api/v1/events", event(), format="json").status_code for _ in range(5)] == [202] * 5
    assert unreachable.calls == 1
    assert caplog.text.count("shared cache unreachable (TimeoutError)") == 1

    monkeypatch.setattr(shared_cache, "_retry_at", 0.0)
    assert api.get("/api/v1/subscriptions").status_code == 200
    assert unreachable.calls == 2


def test_interactive_calls_go_ahead_without_the_cache_while_it_pauses(unreachable, api, receiver):
    shared_cache.shared_cache_unreachable(redis.exceptions.TimeoutError(), what="a test")
    response = api.post("/api/v1/send-request", {"method": "GET", "url": receiver.url("/step")}, format="json")
    assert response.status_code == 200 and response.json()["status"] == 204
    assert unreachable.calls == 0


def test_an_oauth_token_is_fetched_without_the_cache_while_it_pauses(environment, receiver, monkeypatch):
    receiver.script("/token", statuses=[200], body=b'{"access_token": "t-1", "expires_in": 3600}')
    credential = credential_create(
        environment=environment,
        name="oauth",
        type=Credential.Type.OAUTH_CLIENT_CREDENTIALS,
        values={"token_url": receiver.url("/token"), "client_id": "id", "client_secret": "secret"},
    )
    shared_cache.shared_cache_unreachable(redis.exceptions.TimeoutError(), what="a test")
    assert oauth_token(credential=credential) == "t-1"
    assert cache.get(f"outflow:oauth-token:{credential.pk}:{credential.updated_at.timestamp()}") is None

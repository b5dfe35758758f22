"""OAuth client credentials against a real token endpoint: parameters, caching, single flight, refusal."""

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from credentials.oauth import TokenError, oauth_token, oauth_token_drop
from credentials.request_auth import CredentialError, request_authenticate, request_refused
from credentials.services import credential_create
from tests import secrets

TOKEN = json.dumps({"access_token": secrets.ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}).encode()


@pytest.fixture
def token_server(receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, headers={"Content-Type": "application/json"})
    return receiver


def _credential(environment, receiver, **values):
    return credential_create(
        environment=environment,
        name="oauth",
        type="oauth_client_credentials",
        values={
            "token_url": receiver.url("/token"),
            "client_id": "client-1",
            "client_secret": secrets.CLIENT_SECRET,
            "scope": "events:write",
            **values,
        },
    )


def test_body_scheme_posts_the_form(environment, token_server):
    credential = _credential(environment, token_server)
    url, headers = request_authenticate(credential=credential, method="POST", url="http://x/", headers={}, body=b"")
    assert headers["authorization"] == f"Bearer {secrets.ACCESS_TOKEN}"
    [request] = token_server.received("/token")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": [secrets.CLIENT_SECRET],
        "scope": ["events:write"],
    }


def test_url_scheme_sends_a_get_with_parameters_merged_into_the_query(environment, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN)
    credential = _credential(environment, receiver, request_scheme="url", token_url=receiver.url("/token?tenant=7"))
    oauth_token(credential=credential)
    [request] = receiver.received()
    assert request.method == "GET" and request.body == b""
    assert parse_qs(urlsplit(request.path).query) == {
        "tenant": ["7"],
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": [secrets.CLIENT_SECRET],
        "scope": ["events:write"],
    }


def test_the_token_is_cached(environment, token_server):
    credential = _credential(environment, token_server)
    assert oauth_token(credential=credential) == oauth_token(credential=credential) == secrets.ACCESS_TOKEN
    assert len(token_server.received("/token")) == 1


def test_the_cached_token_is_encrypted(environment, token_server):
    import redis
    from django.conf import settings

    credential = _credential(environment, token_server)
    oauth_token(credential=credential)
    store = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    values = [store.get(key) for key in store.keys("*oauth-token*") if not key.endswith(b":lock")]
    assert values and all(secrets.ACCESS_TOKEN.encode() not in value for value in values)


def test_concurrent_threads_fetch_one_token(environment, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, delay=0.3)
    credential = _credential(environment, receiver)
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(oauth_token(credential=credential))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tokens == [secrets.ACCESS_TOKEN] * 8
    assert len(receiver.received("/token")) == 1


def test_callers_arriving_while_the_fetch_finishes_still_share_one_token(environment, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, delay=0.1)
    credential = _credential(environment, receiver)
    tokens = []

    def call(stagger: float) -> None:
        time.sleep(stagger)
        tokens.append(oauth_token(credential=credential))

    threads = [threading.Thread(target=call, args=(index * 0.004,)) for index in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 50 and set(tokens) == {secrets.ACCESS_TOKEN}
    assert len(receiver.received("/token")) == 1


def test_a_token_is_fetched_again_after_expires_in(environment, receiver):
    receiver.script("/token", statuses=[200], body=json.dumps({"access_token": "short", "expires_in": 1}).encode())
    credential = _credential(environment, receiver)
    oauth_token(credential=credential)
    oauth_token(credential=credential)
    assert len(receiver.received("/token")) == 1
    time.sleep(1.2)
    oauth_token(credential=credential)
    assert len(receiver.received("/token")) == 2


def test_the_ttl_setting_caps_the_cache_time(environment, token_server, settings):
    settings.OUTFLOW_OAUTH_TOKEN_TTL_SECONDS = 1
    credential = _credential(environment, token_server)
    oauth_token(credential=credential)
    time.sleep(1.2)
    oauth_token(credential=credential)
    assert len(token_server.received("/token")) == 2


def test_a_401_from_the_endpoint_drops_the_token(environment, token_server):
    credential = _credential(environment, token_server)
    oauth_token(credential=credential)
    request_refused(credential=credential, status=403)
    oauth_token(credential=credential)
    assert len(token_server.received("/token")) == 1
    request_refused(credential=credential, status=401)
    oauth_token(credential=credential)
    assert len(token_server.received("/token")) == 2


def test_drop_then_fetch(environment, token_server):
    credential = _credential(environment, token_server)
    oauth_token(credential=credential)
    oauth_token_drop(credential=credential)
    oauth_token(credential=credential)
    assert len(token_server.received("/token")) == 2


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, b'{"error": "invalid_client"}', "token endpoint answered 401 (invalid_client)"),
        (200, b'{"token": "x"}', "token endpoint answer has no access_token"),
        (200, b"<html>", "token endpoint answer has no access_token"),
    ],
)
def test_a_failing_token_endpoint_gives_a_clear_error(environment, receiver, status, body, message):
    receiver.script("/token", statuses=[status], body=body)
    credential = _credential(environment, receiver)
    with pytest.raises(CredentialError) as raised:
        request_authenticate(credential=credential, method="POST", url="http://x/", headers={}, body=b"")
    assert str(raised.value) == f"OAuth: {message}"
    assert secrets.CLIENT_SECRET not in str(raised.value)


def test_an_unreachable_token_endpoint_is_a_token_error(environment, receiver):
    credential = _credential(environment, receiver, token_url="http://127.0.0.1:9/token")
    with pytest.raises(TokenError, match="token endpoint unreachable: connection error"):
        oauth_token(credential=credential)


def test_without_the_shared_cache_each_call_fetches_its_own_token(environment, token_server, monkeypatch):
    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting")

    credential = _credential(environment, token_server)
    for name in ("get", "add", "set", "delete"):
        monkeypatch.setattr(cache, name, unreachable)
    assert oauth_token(credential=credential) == secrets.ACCESS_TOKEN
    assert oauth_token(credential=credential) == secrets.ACCESS_TOKEN
    oauth_token_drop(credential=credential)
    assert len(token_server.received("/token")) == 2

"""Every endpoint that takes a body answers malformed input with a 4xx in the error envelope, never a 500."""

import json

import pytest

from subscriptions.services import subscription_create
from tests.factories import event

URL = "http://127.0.0.1:9/hook"
OAUTH = {
    "name": "oauth",
    "type": "oauth_client_credentials",
    "token_url": "http://127.0.0.1:9/token",
    "client_id": "client-1",
    "client_secret": "client-secret-1",
}
# (method, path, a valid body): {subscription} and {credential} are filled in with ids of the test's own.
ENDPOINTS = {
    "events": ("post", "/api/v1/events", event()),
    "subscription create": (
        "post",
        "/api/v1/subscriptions",
        {"name": "sink", "event_types": ["card-completed"], "url": URL, "headers": {"X-A": "1"}},
    ),
    "subscription update": ("patch", "/api/v1/subscriptions/{subscription}", {"name": "sink 2", "mapping": "x"}),
    "subscription replace": (
        "put",
        "/api/v1/subscriptions/{subscription}",
        {"name": "sink", "event_types": ["card-completed"], "url": URL},
    ),
    "credential create": ("post", "/api/v1/credentials", OAUTH),
    "credential update": ("patch", "/api/v1/credentials/{credential}", {"name": "oauth 2", "scope": "read"}),
    "send request": (
        "post",
        "/api/v1/send-request",
        {"method": "POST", "url": URL, "headers": {"X-A": "1"}, "body": {"a": 1}, "credential": None},
    ),
    "send test": ("post", "/api/v1/subscriptions/{subscription}/test", {"event": event()}),
    "recover": ("post", "/api/v1/subscriptions/{subscription}/recover", {"since": "2026-11-28T10:00:00Z"}),
    "mapping preview": (
        "post",
        "/api/v1/subscriptions/{subscription}/mapping/preview",
        {"script": "return event;", "event": event()},
    ),
    "export settings": ("patch", "/api/v1/export-settings", {"include_test_events": True}),
}
DEEP = 20_000


def _strings_in(body) -> list[str]:
    return [key for key, value in body.items() if isinstance(value, str)] if isinstance(body, dict) else []


def _with_each_string(body: dict, value: str) -> dict:
    return {key: value if isinstance(item, str) else item for key, item in body.items()}


def _kinds(body: dict) -> dict[str, bytes]:
    """Malformed variants of a valid body, as raw bytes."""
    text = json.dumps(body)
    # A body with no string field takes one it does not know: the parser sees every string, known or not.
    first_string = (_strings_in(body) or ["note"])[0]
    kinds = {
        "lone surrogate": json.dumps({**body, first_string: "a\ud800b"}).encode(),
        "lone surrogate in a key": text.replace("{", '{"\\udfff": 1, ', 1).encode(),
        "nul character": json.dumps({**body, first_string: "a\u0000b"}).encode(),
        "nested 20000 deep": ("[" * DEEP + "]" * DEEP).encode(),
        "nested 20000 deep in a field": text.replace("{", '{"deep": ' + "[" * DEEP + "]" * DEEP + ", ", 1).encode(),
        "nested 70 deep": text.replace("{", '{"deep": ' + '{"a": ' * 70 + "1" + "}" * 70 + ", ", 1).encode(),
        "invalid utf-8": text.encode().replace(b"{", b'{"bad": "\xff\xfe", ', 1),
        "truncated utf-8": text.encode().replace(b"{", b'{"bad": "\xe6\x97", ', 1),
        "integer beyond 2^53": text.replace("{", '{"n": 9007199254740993, ', 1).encode(),
        "negative integer beyond 2^53": text.replace("{", '{"n": -9007199254740993, ', 1).encode(),
        "integer of 5000 digits": text.replace("{", '{"n": ' + "9" * 5000 + ", ", 1).encode(),
        "huge exponent": text.replace("{", '{"n": 1e400, ', 1).encode(),
        "NaN": text.replace("{", '{"n": NaN, ', 1).encode(),
        "Infinity": text.replace("{", '{"n": -Infinity, ', 1).encode(),
        "not JSON": b"{'single': 'quotes'}",
        "empty body": b"",
        "top-level array": b"[1, 2]",
        "top-level string": b'"text"',
        "top-level number": b"42",
        "null": b"null",
        "wrong types": json.dumps({key: [{"x": 1}] for key in body}).encode(),
    }
    if _strings_in(body):
        kinds["over-long strings"] = json.dumps(_with_each_string(body, "x" * 1_000_000)).encode()
    return kinds


@pytest.fixture
def ids(api, environment):
    subscription = subscription_create(environment=environment, name="s", event_types=["card-completed"], url=URL)
    credential = api.post("/api/v1/credentials", OAUTH, format="json").json()
    return {"subscription": subscription.pk, "credential": credential["id"]}


CASES = [
    (endpoint, kind)
    for endpoint, (_, _, body) in ENDPOINTS.items()
    for kind in _kinds(body)
    # An empty body is a valid "nothing" for these (defaults apply, or no change); `null` too for the first three.
    if not (kind in {"empty body", "null"} and endpoint in {"send test", "mapping preview", "export settings"})
    and not (kind == "empty body" and endpoint in {"subscription update", "credential update"})
]


@pytest.mark.parametrize(("endpoint", "kind"), CASES)
def test_malformed_body_is_a_4xx_in_the_error_envelope(api, ids, endpoint, kind):
    method, path, body = ENDPOINTS[endpoint]
    raw = _kinds(body)[kind]
    response = getattr(api, method)(path.format(**ids), raw, content_type="application/json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_the_valid_body_is_not_refused_by_the_parser(api, ids, endpoint):
    method, path, body = ENDPOINTS[endpoint]
    response = getattr(api, method)(path.format(**ids), body, format="json")
    assert response.status_code < 500 and (response.status_code < 400 or "malformed" not in response.content.decode())


@pytest.mark.parametrize("value", [9007199254740991, -9007199254740991, 1.5e300, 0.1])
def test_numbers_within_range_are_kept(api, value):
    response = api.post("/api/v1/events", json.dumps(event(properties={"n": value})), content_type="application/json")
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("endpoint", ["subscription create", "credential update", "send request", "export settings"])
def test_a_body_past_the_request_limit_is_413_wherever_it_goes(api, ids, endpoint, settings):
    settings.OUTFLOW_MAX_REQUEST_BYTES = 1000
    method, path, body = ENDPOINTS[endpoint]
    raw = json.dumps({**body, "padding": "x" * 2000})
    response = getattr(api, method)(path.format(**ids), raw, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"

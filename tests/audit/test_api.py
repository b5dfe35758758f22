"""GET /api/v1/audit-log: what API calls wrote (their key as the actor), newest first by cursor, filtered, one
environment's only, nothing secret, and no way to change an entry."""

from datetime import timedelta

from django.utils import timezone

from subscriptions.services import export_settings_update
from tenancy.models import ApiKey
from tests import secrets

URL = "http://127.0.0.1:9/hook"
MAPPING = "return {source: 'mapping source kept out'};"


def _subscription(api, **fields) -> dict:
    payload = {"name": "sink", "event_types": ["card-completed"], "url": URL, **fields}
    response = api.post("/api/v1/subscriptions", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_api_change_is_written_with_its_key_as_the_actor(api, environment):
    created = _subscription(api, headers={"X-Api-Key": secrets.HEADER_SECRET})
    [entry] = api.get("/api/v1/audit-log?object_type=subscription").json()["results"]
    key = ApiKey.objects.get(environment=environment)
    assert entry["actor"] == {"type": "api_key", "id": str(key.pk), "name": str(key)}
    assert entry["action"] == "subscription.created"
    assert entry["object"] == {"type": "subscription", "id": created["id"], "name": "sink"}
    assert entry["changes"]["headers"] == [None, {"X-Api-Key": "********"}]
    assert set(entry) == {"id", "at", "actor", "action", "object", "changes"}


def test_entries_page_by_cursor_newest_first(api):
    created = _subscription(api)
    for number in range(5):
        api.patch(f"/api/v1/subscriptions/{created['id']}", {"max_retries": number}, format="json")
    seen, url = [], "/api/v1/audit-log?limit=2"
    while url:
        page = api.get(url).json()
        assert "count" not in page and len(page["results"]) <= 2
        seen.extend(page["results"])
        url = page["next"]
    assert [entry["changes"].get("max_retries", [None, None])[1] for entry in seen[:5]] == [4, 3, 2, 1, 0]
    # The oldest: the subscription made, and before it the environment's first key.
    assert [entry["action"] for entry in seen[-2:]] == ["subscription.created", "api_key.created"] and len(seen) == 7
    assert [entry["id"] for entry in seen] == sorted((entry["id"] for entry in seen), reverse=True)


def test_filters_by_time_object_type_and_actor(api, environment):
    _subscription(api)
    export_settings_update(environment=environment, include_test_events=True)  # the test suite, an operator
    now = timezone.now()
    assert [e["action"] for e in api.get("/api/v1/audit-log?object_type=export_settings").json()["results"]] == [
        "export_settings.updated"
    ]
    assert [e["action"] for e in api.get("/api/v1/audit-log?actor=api_key").json()["results"]] == [
        "subscription.created"
    ]
    key = ApiKey.objects.get(environment=environment)
    assert len(api.get(f"/api/v1/audit-log?actor=api_key:{key.pk}").json()["results"]) == 1
    assert api.get("/api/v1/audit-log?actor=api_key:999999").json()["results"] == []
    # The environment's first key was made by the test suite (an operator) too.
    assert [e["action"] for e in api.get("/api/v1/audit-log?actor=operator").json()["results"]] == [
        "export_settings.updated",
        "api_key.created",
    ]
    since = (now + timedelta(seconds=1)).isoformat()
    until = (now - timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/audit-log", {"since": since}).json()["results"] == []
    assert api.get("/api/v1/audit-log", {"until": until}).json()["results"] == []
    assert len(api.get("/api/v1/audit-log", {"since": until, "until": since}).json()["results"]) == 3


def test_bad_filters_answer_400(api):
    for query in ["actor=nobody", "since=yesterday", "actor=member:a:b"]:
        response = api.get(f"/api/v1/audit-log?{query}")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid", query


def test_an_environment_sees_only_its_own_entries(api, other_api):
    _subscription(api)
    _subscription(other_api)
    mine = api.get("/api/v1/audit-log?object_type=subscription").json()["results"]
    theirs = other_api.get("/api/v1/audit-log?object_type=subscription").json()["results"]
    assert len(mine) == 1 and len(theirs) == 1 and mine[0]["id"] != theirs[0]["id"]
    assert other_api.get(f"/api/v1/audit-log?actor=api_key:{mine[0]['actor']['id']}").json()["results"] == []


def test_no_secret_and_no_mapping_source_in_any_entry(api):
    created = _subscription(api, headers={"Authorization": secrets.HEADER_SECRET}, mapping=MAPPING)
    api.post(f"/api/v1/subscriptions/{created['id']}/secret/rotate")
    secret = api.get(f"/api/v1/subscriptions/{created['id']}/secret").json()["secret"]
    for payload in secrets.credential_payloads(token_url="http://127.0.0.1:9/token"):
        credential = api.post("/api/v1/credentials", {"name": payload["type"], **payload}, format="json").json()
        api.delete(f"/api/v1/credentials/{credential['id']}")
    api.patch("/api/v1/notifications", {"webhook_url": "http://127.0.0.1:9/ops"}, format="json")
    rotated = api.post("/api/v1/notifications/secret/rotate").json()
    text = api.get("/api/v1/audit-log?limit=100").content.decode()
    # The first key, the subscription made and its secret rotated, three credentials made and deleted, the
    # notification settings changed and their secret rotated.
    assert text.count('"action"') == 11
    for hidden in [*secrets.ALL, secret, MAPPING, "mapping source kept out", str(rotated)]:
        assert hidden not in text
    assert '"sha256"' in text and "********" in text


def test_no_api_call_changes_or_deletes_an_entry(api):
    _subscription(api)
    entries = api.get("/api/v1/audit-log").json()["results"]
    entry = entries[0]
    for method in ("patch", "put", "delete", "post"):
        response = getattr(api, method)("/api/v1/audit-log", {"actor": "x"}, format="json")
        assert response.status_code == 405, method
        response = getattr(api, method)(f"/api/v1/audit-log/{entry['id']}", {"actor": "x"}, format="json")
        assert response.status_code == 404, method
    assert api.get("/api/v1/audit-log").json()["results"] == entries

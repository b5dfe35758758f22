"""The subscriptions API: every rule of API.md's table, the error envelope, and isolation by API key."""

import pytest
from django.test import override_settings

from subscriptions.models import Subscription
from tests.factories import subscription_payload

URL = "http://127.0.0.1:9/hook"


def _create(api, **fields):
    return api.post("/api/v1/subscriptions", {**subscription_payload(URL), **fields}, format="json")


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_create_applies_defaults_and_hides_the_secret(api):
    response = _create(api)
    body = response.json()
    assert response.status_code == 201
    assert body["method"] == "POST" and body["max_retries"] == 23 and body["auto_disable"] is True
    assert body["status"] == "active" and body["card"] is None and body["headers"] == {}
    assert body["event_types"] == ["card-completed"]
    assert "secret" not in body
    assert Subscription.objects.get().secret.startswith("whsec_")


def test_signing_secret_is_encrypted_at_rest(api):
    _create(api)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM subscriptions_subscription")
        [(stored,)] = cursor.fetchall()
    assert not stored.startswith("whsec_")
    assert Subscription.objects.get().secret not in stored


def test_requests_without_a_valid_key_are_refused(client, environment):
    assert _error(client.get("/api/v1/subscriptions"), 401)["code"] == "not_authenticated"
    response = client.get("/api/v1/subscriptions", HTTP_AUTHORIZATION="Bearer of_wrong")
    assert _error(response, 401)["code"] == "authentication_failed"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["card-exploded"]}, "event_types"),
        ({"method": "GET"}, "method"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"headers": {"Bad Header": "x"}}, "headers"),
        ({"headers": {"X-Ok": "a\r\nInjected: 1"}}, "headers"),
        ({"headers": {"X-A": "abc\n"}}, "headers"),
        ({"headers": {"X-A\n": "abc"}}, "headers"),
        ({"headers": {"Content-Type": "text/plain"}}, "headers"),
        ({"headers": {"Webhook-Id": "x"}}, "headers"),
        ({"headers": {f"X-H{i}": "v" for i in range(21)}}, "headers"),
        ({"headers": {"X-Name": "日本"}}, "headers"),
        ({"headers": {"X-A": "1", "x-a": "2"}}, "headers"),
        ({"url": "http://[::1"}, "url"),
        ({"max_retries": 51}, "max_retries"),
        ({"max_retries": -1}, "max_retries"),
        ({"auto_disable": "perhaps"}, "auto_disable"),
    ],
)
def test_invalid_fields_answer_400_naming_the_field(api, fields, field):
    error = _error(_create(api, **fields), 400)
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert Subscription.objects.count() == 0


def test_missing_required_fields_are_named(api):
    error = _error(api.post("/api/v1/subscriptions", {}, format="json"), 400)
    assert {"name", "event_types", "url"} <= set(error["fields"])


@override_settings(OUTFLOW_ALLOW_PRIVATE_TARGETS=False)
@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/x", "http://169.254.169.254/latest", "http://10.0.0.8/", "http://[::1]/", "http://localhost/"],
)
def test_private_targets_are_refused_unless_allowed(api, url):
    error = _error(_create(api, url=url), 400)
    assert "url" in error["fields"]


def test_card_scope_is_fixed_once_saved(api):
    subscription = _create(api, card="card-7").json()
    response = api.patch(f"/api/v1/subscriptions/{subscription['id']}", {"card": "card-8"}, format="json")
    assert "card" in _error(response, 400)["fields"]
    same = api.patch(
        f"/api/v1/subscriptions/{subscription['id']}", {"card": "card-7", "name": "Renamed"}, format="json"
    )
    assert same.status_code == 200 and same.json()["name"] == "Renamed"
    assert Subscription.objects.get().card == "card-7"


def test_patch_edits_event_types_and_put_replaces(api):
    subscription = _create(api, headers={"X-A": "1"}, max_retries=5).json()
    path = f"/api/v1/subscriptions/{subscription['id']}"
    patched = api.patch(path, {"event_types": ["card-dismissed", "card-completed"]}, format="json").json()
    assert patched["event_types"] == ["card-completed", "card-dismissed"] and patched["max_retries"] == 5

    replaced = api.put(path, subscription_payload(URL, method="PUT"), format="json").json()
    assert replaced["method"] == "PUT" and replaced["max_retries"] == 23 and replaced["headers"] == {}


def test_put_without_required_fields_is_400(api):
    subscription = _create(api).json()
    response = api.put(f"/api/v1/subscriptions/{subscription['id']}", {"name": "only"}, format="json")
    assert {"event_types", "url"} <= set(_error(response, 400)["fields"])


@override_settings(OUTFLOW_MAX_SUBSCRIPTIONS=3)
def test_subscription_limit_answers_409(api):
    for _ in range(3):
        assert _create(api).status_code == 201
    assert _error(_create(api), 409)["code"] == "subscription_limit"
    assert Subscription.objects.count() == 3


def test_another_environment_sees_404(api, other_api):
    subscription = _create(api).json()
    path = f"/api/v1/subscriptions/{subscription['id']}"
    for response in (
        other_api.get(path),
        other_api.patch(path, {"name": "x"}, format="json"),
        other_api.delete(path),
        other_api.post(f"{path}/pause"),
        other_api.get(f"{path}/secret"),
        other_api.post(f"{path}/secret/rotate"),
        other_api.get(f"{path}/deliveries"),
        other_api.post(f"{path}/recover", {"since": "2020-01-01T00:00:00Z"}, format="json"),
    ):
        assert _error(response, 404)["code"] == "not_found"
    assert other_api.get("/api/v1/subscriptions").json()["count"] == 0
    assert Subscription.objects.get().name == "Analytics sink"


def test_pause_and_resume(api):
    subscription = _create(api).json()
    paused = api.post(f"/api/v1/subscriptions/{subscription['id']}/pause").json()
    assert paused["status"] == "paused" and paused["paused_reason"] and paused["paused_at"]
    resumed = api.post(f"/api/v1/subscriptions/{subscription['id']}/resume").json()
    assert resumed["status"] == "active" and resumed["paused_reason"] == "" and resumed["paused_at"] is None


def test_status_is_read_only(api):
    subscription = _create(api).json()
    response = api.patch(f"/api/v1/subscriptions/{subscription['id']}", {"status": "paused"}, format="json")
    assert response.json()["status"] == "active"


def test_recover_needs_a_time_and_an_active_subscription(api):
    subscription = _create(api).json()
    path = f"/api/v1/subscriptions/{subscription['id']}"
    assert "since" in _error(api.post(f"{path}/recover", {"since": "yesterday"}, format="json"), 400)["fields"]
    api.post(f"{path}/pause")
    response = api.post(f"{path}/recover", {"since": "2020-01-01T00:00:00Z"}, format="json")
    assert _error(response, 409)["code"] == "subscription_paused"


def test_deliveries_filter_rejects_unknown_status(api):
    subscription = _create(api).json()
    response = api.get(f"/api/v1/subscriptions/{subscription['id']}/deliveries?status=lost")
    assert "status" in _error(response, 400)["fields"]


def test_delete_removes_the_subscription(api):
    subscription = _create(api).json()
    assert api.delete(f"/api/v1/subscriptions/{subscription['id']}").status_code == 204
    assert Subscription.objects.count() == 0


def test_event_types_catalog(api):
    names = {event_type["name"] for event_type in api.get("/api/v1/event-types").json()}
    assert {"card-published", "card-completed", "video-completed", "runtime-vars-updated"} <= names
    assert len(names) >= 22


def test_export_settings_read_and_patch(api, other_api):
    assert api.get("/api/v1/export-settings").json() == {
        "include_test_events": False,
        "include_request_payload": False,
        "include_card_response_data": False,
    }
    patched = api.patch("/api/v1/export-settings", {"include_test_events": True}, format="json").json()
    assert patched["include_test_events"] is True
    assert other_api.get("/api/v1/export-settings").json()["include_test_events"] is False
    response = api.patch("/api/v1/export-settings", {"include_test_events": "maybe"}, format="json")
    assert "include_test_events" in _error(response, 400)["fields"]


@pytest.mark.parametrize("path", ["/api/v1/subscriptions/not-a-uuid", "/api/v1/nothing-here"])
def test_unknown_paths_answer_the_json_envelope(api, path):
    assert _error(api.get(path), 404)["code"] == "not_found"


def test_a_well_formed_but_unknown_id_is_404(api):
    assert _error(api.get("/api/v1/subscriptions/00000000-0000-0000-0000-000000000000"), 404)["code"] == "not_found"


def test_an_update_from_a_stale_copy_keeps_a_concurrent_pause_and_rotation(api, environment):
    from subscriptions.services import subscription_pause_by_id, subscription_secret_rotate, subscription_update

    created = _create(api).json()
    stale = Subscription.objects.get(pk=created["id"])
    subscription_pause_by_id(subscription_id=stale.pk, reason="retries exhausted")
    rotated = subscription_secret_rotate(subscription=Subscription.objects.get(pk=stale.pk))
    subscription_update(subscription=stale, name="Renamed")
    fresh = Subscription.objects.get(pk=stale.pk)
    assert fresh.name == "Renamed" and fresh.status == Subscription.Status.PAUSED
    assert fresh.secret == rotated.secret


def test_secret_looking_header_values_read_back_masked_and_survive_a_round_trip(api):
    created = _create(api, headers={"X-Api-Key": "k-123-secret", "X-Team": "growth"}).json()
    assert created["headers"] == {"X-Api-Key": "********", "X-Team": "growth"}
    path = f"/api/v1/subscriptions/{created['id']}"
    api.put(path, {**created, "headers": {**created["headers"], "X-Team": "data"}, "card": None}, format="json")
    assert Subscription.objects.get().headers == {"X-Api-Key": "k-123-secret", "X-Team": "data"}
    api.patch(path, {"headers": {"X-Api-Key": "k-456-new"}}, format="json")
    assert Subscription.objects.get().headers == {"X-Api-Key": "k-456-new"}

"""API key scopes: every operation of the served OpenAPI schema, called with a key of each scope, is allowed or
refused (403 `scope`) as API.md says; keys of a scope come from the command and from the owners' Workbench page."""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tenancy.models import ApiKey
from tenancy.scopes import scope_allows
from tenancy.selectors import api_key_of
from tenancy.services import api_key_create
from tests.factories import member_client

INGEST = ("POST", "/api/v1/events")


def _operations(client) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/schema/?format=json").json()
    return [
        (method.upper(), path.rstrip("/"), operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _path(path: str, operation: dict) -> str:
    """The path with ids that name nothing: an allowed call then answers 404 or 400 and changes nothing."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = "987654321" if parameter["schema"].get("pattern") == "^[0-9]+$" else str(uuid.uuid4())
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _allowed_by_contract(scope: str, method: str, path: str) -> bool:
    """API.md, restated: full may do everything; ingest only POST /api/v1/events; read only GETs."""
    return scope == "full" or (scope == "read" and method == "GET") or (scope == "ingest" and (method, path) == INGEST)


@pytest.mark.parametrize("scope", ["full", "ingest", "read"])
def test_each_operation_of_the_schema_is_allowed_or_refused_as_the_scope_says(environment, scope):
    client = _client(api_key_create(environment=environment, scope=scope))
    operations = _operations(client)
    assert len(operations) > 25 and ("POST", "/api/v1/events") in [(m, p) for m, p, _ in operations]
    wrong = []
    for method, path, operation in operations:
        response = client.generic(method, _path(path, operation), data="{}", content_type="application/json")
        refused = response.status_code == 403 and response.json()["error"]["code"] == "scope"
        if refused == _allowed_by_contract(scope, method, path):
            wrong.append((method, path, response.status_code))
    assert wrong == []


def test_a_refusal_changes_nothing_and_says_why(environment, api):
    created = api.post(
        "/api/v1/subscriptions",
        {"name": "s", "event_types": ["card-completed"], "url": "http://127.0.0.1:9/hook"},
        format="json",
    )
    reader = _client(api_key_create(environment=environment, scope="read"))
    response = reader.delete(f"/api/v1/subscriptions/{created.json()['id']}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope" and "'read'" in response.json()["error"]["message"]
    assert reader.get(f"/api/v1/subscriptions/{created.json()['id']}").status_code == 200


def test_an_ingest_key_sends_events_and_reads_nothing(environment):
    ingester = _client(api_key_create(environment=environment, scope="ingest"))
    sent = ingester.post(
        "/api/v1/events",
        {"id": "evt_scope", "eventName": "card-completed", "timestamp": "2026-11-28T10:00:00Z"},
        format="json",
    )
    assert sent.status_code == 202
    assert ingester.get("/api/v1/subscriptions").json()["error"]["code"] == "scope"


def test_the_rule_itself():
    assert scope_allows(scope="read", method="HEAD", ingest_view=False)
    assert not scope_allows(scope="read", method="POST", ingest_view=True)
    assert not scope_allows(scope="ingest", method="GET", ingest_view=True)
    assert scope_allows(scope="ingest", method="POST", ingest_view=True)
    assert not scope_allows(scope="unknown", method="GET", ingest_view=False)


def test_create_api_key_makes_a_key_of_the_scope_asked_and_full_by_default(environment):
    out = StringIO()
    call_command("create_api_key", str(environment.pk), "--scope", "ingest", stdout=out)
    assert api_key_of(key=out.getvalue().strip()).scope == ApiKey.Scope.INGEST
    out = StringIO()
    call_command("create_api_key", str(environment.pk), stdout=out)
    assert api_key_of(key=out.getvalue().strip()).scope == ApiKey.Scope.FULL


def test_an_owner_makes_a_key_in_the_workbench_choosing_its_scope_and_sees_it_once(environment):
    owner = member_client(environment, "olive", role="owner")
    page = owner.post(
        "/admin/tenancy/apikey/add/", {"environment": str(environment.pk), "scope": "read", "_save": "Save"}
    )
    assert page.status_code == 200
    key = page.context["key"]
    assert api_key_of(key=key).scope == ApiKey.Scope.READ and api_key_of(key=key).environment == environment
    made = api_key_of(key=key)
    assert key not in owner.get(f"/admin/tenancy/apikey/{made.pk}/change/").content.decode()
    assert _client(key).get("/api/v1/subscriptions").status_code == 200
    assert _client(key).post("/api/v1/subscriptions", {}, format="json").status_code == 403


def test_editors_and_other_environments_owners_cannot_reach_the_keys(environment, catalog):
    from tenancy.services import environment_create

    other, _ = environment_create(name="globex")
    theirs = ApiKey.objects.filter(environment=other).get()
    editor = member_client(environment, "eddie", role="editor")
    assert editor.get("/admin/tenancy/apikey/").status_code == 403
    assert (
        editor.post("/admin/tenancy/apikey/add/", {"environment": str(environment.pk), "scope": "full"}).status_code
        == 403
    )
    owner = member_client(environment, "olive", role="owner")
    assert owner.get(f"/admin/tenancy/apikey/{theirs.pk}/change/").status_code == 404
    refused = owner.post("/admin/tenancy/apikey/add/", {"environment": str(other.pk), "scope": "full", "_save": "Save"})
    assert refused.status_code == 200 and "environment" in refused.context["adminform"].form.errors
    assert ApiKey.objects.filter(environment=other).count() == 1

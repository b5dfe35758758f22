"""The credentials API: per-type fields, write-only secrets, encryption at rest, deletion rules."""

import pytest
from django.db import connection

from credentials.models import Credential
from tests import secrets
from tests.factories import subscription_payload

BASIC = {"name": "Partner basic", "type": "basic_auth", "username": "outflow", "password": secrets.PASSWORD}
OAUTH = {
    "name": "Partner OAuth",
    "type": "oauth_client_credentials",
    "token_url": "http://127.0.0.1:9/token",
    "client_id": "client-1",
    "client_secret": secrets.CLIENT_SECRET,
}
AWS = {
    "name": "AWS",
    "type": "aws_signed_request",
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": secrets.AWS_SECRET_ACCESS_KEY,
    "session_token": secrets.AWS_SESSION_TOKEN,
}


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def _create(api, payload) -> dict:
    response = api.post("/api/v1/credentials", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    ("payload", "secret_flags"),
    [
        (BASIC, {"password_set": True}),
        (OAUTH, {"client_secret_set": True}),
        (AWS, {"secret_access_key_set": True, "session_token_set": True}),
    ],
)
def test_secrets_are_write_only(api, payload, secret_flags):
    created = _create(api, payload)
    listed = api.get("/api/v1/credentials").json()["results"][0]
    read = api.get(f"/api/v1/credentials/{created['id']}").json()
    for body in (created, listed, read):
        for flag, value in secret_flags.items():
            assert body[flag] is value
        for secret in secrets.ALL:
            assert secret not in str(body)


def test_defaults_and_public_fields_are_shown(api):
    oauth = _create(api, OAUTH)
    assert oauth["request_scheme"] == "body" and oauth["client_id"] == "client-1" and oauth["scope"] == ""
    aws = _create(api, AWS)
    assert aws["sign_query"] is False and aws["access_key_id"] == "AKIDEXAMPLE" and aws["region"] is None


def test_secret_values_are_encrypted_at_rest(api):
    _create(api, BASIC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM credentials_credential")
        [(stored,)] = cursor.fetchall()
    assert secrets.PASSWORD not in stored
    assert Credential.objects.get().secrets == {"password": secrets.PASSWORD}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**BASIC, "password": ""}, "password"),
        ({k: v for k, v in BASIC.items() if k != "username"}, "username"),
        ({**BASIC, "client_id": "x"}, "client_id"),
        ({**OAUTH, "request_scheme": "header"}, "request_scheme"),
        ({**OAUTH, "token_url": "ftp://example.com/token"}, "token_url"),
        ({**AWS, "sign_query": "sometimes"}, "sign_query"),
        ({**BASIC, "type": "api_key"}, "type"),
        ({**BASIC, "name": ""}, "name"),
    ],
)
def test_invalid_values_answer_400_naming_the_field(api, payload, field):
    assert field in _error(api.post("/api/v1/credentials", payload, format="json"), 400)["fields"]
    assert Credential.objects.count() == 0


def test_patch_keeps_secrets_not_given_and_refuses_a_type_change(api):
    created = _create(api, BASIC)
    path = f"/api/v1/credentials/{created['id']}"
    patched = api.patch(path, {"username": "renamed"}, format="json").json()
    assert patched["username"] == "renamed" and patched["password_set"] is True
    assert Credential.objects.get().secrets["password"] == secrets.PASSWORD
    assert "type" in _error(api.patch(path, {"type": "aws_signed_request"}, format="json"), 400)["fields"]
    assert api.put(path, BASIC, format="json").status_code == 405


def test_a_credential_in_use_cannot_be_deleted(api):
    credential = _create(api, BASIC)
    api.post(
        "/api/v1/subscriptions",
        subscription_payload("http://127.0.0.1:9/", name="Orders sink", credential=credential["id"]),
        format="json",
    )
    error = _error(api.delete(f"/api/v1/credentials/{credential['id']}"), 409)
    assert error["code"] == "credential_in_use" and "Orders sink" in error["message"]
    assert Credential.objects.count() == 1


def test_an_unused_credential_is_deleted(api):
    credential = _create(api, BASIC)
    assert api.delete(f"/api/v1/credentials/{credential['id']}").status_code == 204
    assert Credential.objects.count() == 0


def test_another_environment_cannot_see_or_use_a_credential(api, other_api):
    credential = _create(api, BASIC)
    assert _error(other_api.get(f"/api/v1/credentials/{credential['id']}"), 404)["code"] == "not_found"
    assert other_api.get("/api/v1/credentials").json()["count"] == 0
    response = other_api.post(
        "/api/v1/subscriptions", subscription_payload("http://127.0.0.1:9/", credential=credential["id"]), format="json"
    )
    assert "credential" in _error(response, 400)["fields"]


def test_a_subscription_names_its_credential(api):
    credential = _create(api, BASIC)
    subscription = api.post(
        "/api/v1/subscriptions", subscription_payload("http://127.0.0.1:9/", credential=credential["id"]), format="json"
    ).json()
    assert subscription["credential"] == credential["id"]
    cleared = api.patch(f"/api/v1/subscriptions/{subscription['id']}", {"credential": None}, format="json").json()
    assert cleared["credential"] is None


def test_changing_the_token_url_requires_the_client_secret_again(api):
    credential = _create(api, OAUTH)
    path = f"/api/v1/credentials/{credential['id']}"
    moved = {"token_url": "http://127.0.0.1:8/elsewhere"}
    error = _error(api.patch(path, moved, format="json"), 400)
    assert error["code"] == "secret_required" and "client_secret" in error["fields"]
    assert Credential.objects.get(pk=credential["id"]).settings["token_url"] == OAUTH["token_url"]
    unchanged = api.patch(path, {"token_url": OAUTH["token_url"], "scope": "read"}, format="json")
    assert unchanged.status_code == 200, unchanged.content
    again = api.patch(path, {**moved, "client_secret": "new-secret"}, format="json")
    assert again.status_code == 200 and again.json()["token_url"] == moved["token_url"]


def test_aws_credentials_change_without_their_secret(api):
    credential = _create(api, AWS)
    response = api.patch(f"/api/v1/credentials/{credential['id']}", {"region": "eu-west-1"}, format="json")
    assert response.status_code == 200, response.content

"""Check credential on a credential's Workbench page: the API's check against a real token endpoint, its true result
on the same page (never a secret or a token); editors and owners only, 404 in another environment."""

import json

import pytest

from credentials.check import CheckVerdict, check_verdict
from credentials.services import credential_create
from tenancy.services import environment_create
from tests import secrets
from tests.factories import member_client

TOKEN = json.dumps({"access_token": secrets.ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}).encode()


def _oauth(environment, token_url: str, **values):
    return credential_create(
        environment=environment,
        name="Token login",
        type="oauth_client_credentials",
        values={"token_url": token_url, "client_id": "client-1", "client_secret": secrets.CLIENT_SECRET, **values},
    )


def _checked(client, credential) -> tuple[str, str]:
    """(the message's level, its text) on the credential's page after Check credential."""
    response = client.post(f"/admin/credentials/credential/{credential.pk}/check/", follow=True)
    assert response.redirect_chain == [(f"/admin/credentials/credential/{credential.pk}/change/", 302)]
    [message] = list(response.context["messages"])
    page = response.content.decode()
    for secret in (secrets.CLIENT_SECRET, secrets.ACCESS_TOKEN, secrets.PASSWORD):
        assert secret not in page
    return message.tags, message.message


@pytest.mark.parametrize(
    ("found", "verdict"),
    [
        (
            {"ok": True, "message": "the token endpoint gave a token"},
            ("passed", "Check passed: the token endpoint gave a token."),
        ),
        (
            {"ok": False, "status": 401, "message": "token endpoint answered 401 (invalid_client)"},
            ("failed", "Check failed: token endpoint answered 401 (invalid_client)."),
        ),
        (
            {"ok": None, "message": "nothing to check without the endpoint"},
            ("nothing to check", "Nothing to check: nothing to check without the endpoint."),
        ),
    ],
)
def test_a_check_reads_as_one_sentence(found, verdict):
    assert check_verdict(found) == CheckVerdict(*verdict)


def test_an_editor_s_check_fetches_a_token_and_says_it_passed(environment, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, headers={"Content-Type": "application/json"})
    credential = _oauth(environment, receiver.url("/token"))
    editor = member_client(environment, "ed")
    assert (
        'id="check-credential"' in editor.get(f"/admin/credentials/credential/{credential.pk}/change/").content.decode()
    )
    assert _checked(editor, credential) == ("success", "Check passed: the token endpoint gave a token.")
    [fetch] = receiver.received("/token")
    assert f"client_secret={secrets.CLIENT_SECRET}" in fetch.body.decode()


def test_a_refused_or_unreachable_token_endpoint_is_a_failure_in_words(environment, receiver):
    receiver.script("/token", statuses=[401], body=b'{"error": "invalid_client"}')
    owner = member_client(environment, "olive", role="owner")
    refused = _oauth(environment, receiver.url("/token"))
    assert _checked(owner, refused) == ("error", "Check failed: token endpoint answered 401 (invalid_client).")
    # The secret rides in the URL here: an unreachable endpoint's error must not repeat it.
    unreachable = _oauth(environment, "http://127.0.0.1:9/token", request_scheme="url")
    tags, text = _checked(owner, unreachable)
    assert tags == "error" and text.startswith("Check failed: token endpoint unreachable")


def test_a_basic_auth_credential_has_nothing_to_check(environment):
    credential = credential_create(
        environment=environment,
        name="Receiver login",
        type="basic_auth",
        values={"username": "outflow", "password": secrets.PASSWORD},
    )
    tags, text = _checked(member_client(environment, "ed"), credential)
    assert tags == "info" and text.startswith("Nothing to check: nothing to check without the endpoint")


def test_a_viewer_gets_no_button_and_cannot_check(environment, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, headers={"Content-Type": "application/json"})
    credential = _oauth(environment, receiver.url("/token"))
    viewer = member_client(environment, "vi", role="viewer")
    page = viewer.get(f"/admin/credentials/credential/{credential.pk}/change/").content.decode()
    assert "check-credential" not in page and "/check/" not in page
    assert viewer.post(f"/admin/credentials/credential/{credential.pk}/check/").status_code == 403
    assert receiver.received("/token") == []


def test_another_environment_s_editor_cannot_check_ours(environment, receiver, catalog):
    receiver.script("/token", statuses=[200], body=TOKEN, headers={"Content-Type": "application/json"})
    credential = _oauth(environment, receiver.url("/token"))
    other, _ = environment_create(name="globex")
    stranger = member_client(other, "gus")
    assert stranger.post(f"/admin/credentials/credential/{credential.pk}/check/").status_code == 404
    assert receiver.received("/token") == []
    editor = member_client(environment, "ed")
    assert editor.get(f"/admin/credentials/credential/{credential.pk}/check/").status_code == 405

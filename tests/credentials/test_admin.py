"""The Workbench's credential forms: a fieldset per type, secrets never shown again, in-use credentials kept."""

import pytest

from credentials.models import Credential
from credentials.services import credential_create
from subscriptions.services import subscription_create
from tests import secrets
from tests.factories import member_client
from tests.tls_material import TestCa

ADD = "/admin/credentials/credential/add/"


@pytest.fixture
def editor(environment):
    return member_client(environment, "ed")


def _errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return {name: list(messages) for name, messages in response.context["adminform"].form.errors.items()}


def test_the_add_form_has_each_types_fields_labelled_as_the_console_names_them(editor):
    page = editor.get(ADD).content.decode()
    labels = [
        "Name",
        "Type",
        "Access key ID",
        "Secret access key",
        "Session token",
        "Region",
        "Service",
        "Token URL",
        "Client ID",
        "Client secret",
        "Scope",
        "Request scheme",
        "Username",
        "Password",
        "Client certificate",
        "Private key",
        "CA certificates",
    ]
    for label in labels:
        assert f">{label}:</label>" in page, label
    assert ">Sign query</label>" in page
    tls = "TLS client certificate and CA certificates"
    for option in ["AWS signed request", "OAuth client credentials", "Basic auth", tls]:
        assert f">{option}</option>" in page
    assert page.count('type="password"') == 4 and "credential_form.js" in page
    assert 'class="module aligned credential-fields credential-basic_auth"' in page


def test_an_editor_adds_and_changes_a_credential_keeping_blank_secrets(editor, environment):
    data = {"environment": str(environment.pk), "name": "Ops", "type": "oauth_client_credentials"}
    data.update(token_url="http://127.0.0.1:9/token", client_id="c1", client_secret=secrets.CLIENT_SECRET, scope="")
    data.update(request_scheme="url", username="ignored", _save="Save")
    assert editor.post(ADD, data).status_code == 302
    credential = Credential.objects.get()
    assert credential.settings == {
        "token_url": "http://127.0.0.1:9/token",
        "client_id": "c1",
        "request_scheme": "url",
        "scope": "",
    }
    assert credential.secrets == {"client_secret": secrets.CLIENT_SECRET}

    change = f"/admin/credentials/credential/{credential.pk}/change/"
    page = editor.get(change).content.decode()
    assert secrets.CLIENT_SECRET not in page and "Set; leave blank to keep it." in page
    assert "Username" not in page and "None: the credential can be deleted." in page
    response = editor.post(
        change,
        {
            "name": "Ops 2",
            "token_url": "http://127.0.0.1:9/token",
            "client_id": "c2",
            "client_secret": "",
            "scope": "read",
            "request_scheme": "body",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, _errors(response)
    credential.refresh_from_db()
    assert credential.name == "Ops 2" and credential.settings["client_id"] == "c2"
    assert credential.secrets == {"client_secret": secrets.CLIENT_SECRET}


def test_the_form_refuses_as_the_api_does(editor, api, environment):
    api_response = api.post("/api/v1/credentials", {"name": "B", "type": "basic_auth", "username": "u"}, format="json")
    api_fields = api_response.json()["error"]["fields"]
    data = {"environment": str(environment.pk), "name": "B", "type": "basic_auth", "username": "u", "password": ""}
    assert _errors(editor.post(ADD, data)) == api_fields == {"password": ["this field is required"]}
    api_fields = api.post(
        "/api/v1/credentials",
        {
            "name": "O",
            "type": "oauth_client_credentials",
            "token_url": "ftp://x",
            "client_id": "c",
            "client_secret": "s",
        },
        format="json",
    ).json()["error"]["fields"]
    data = {
        "environment": str(environment.pk),
        "name": "O",
        "type": "oauth_client_credentials",
        "token_url": "ftp://x",
        "client_id": "c",
        "client_secret": "s",
        "request_scheme": "body",
    }
    assert _errors(editor.post(ADD, data)) == api_fields
    assert not Credential.objects.exists()


def test_a_credential_in_use_lists_its_subscriptions_and_cannot_be_deleted(editor, environment):
    credential = credential_create(
        environment=environment, name="Basic", type="basic_auth", values={"username": "u", "password": secrets.PASSWORD}
    )
    subscription_create(
        environment=environment,
        name="Sink A",
        event_types=["card-completed"],
        url="http://127.0.0.1:9/a",
        credential=credential.pk,
    )
    change = f"/admin/credentials/credential/{credential.pk}/change/"
    page = editor.get(change).content.decode()
    assert "Sink A" in page and secrets.PASSWORD not in page
    refusal = editor.get(f"/admin/credentials/credential/{credential.pk}/delete/").content.decode()
    assert "Sink A" in refusal and "Cannot delete" in refusal
    editor.post(f"/admin/credentials/credential/{credential.pk}/delete/", {"post": "yes"})
    assert Credential.objects.exists()


def test_a_viewer_reads_a_credential_without_its_secrets(environment):
    viewer = member_client(environment, "vi", role="viewer")
    credential = credential_create(
        environment=environment,
        name="Basic",
        type="basic_auth",
        values={"username": "u1", "password": secrets.PASSWORD},
    )
    page = viewer.get(f"/admin/credentials/credential/{credential.pk}/change/").content.decode()
    assert "Username: u1" in page and "Password: set" in page and secrets.PASSWORD not in page
    assert 'name="_save"' not in page
    assert viewer.post(f"/admin/credentials/credential/{credential.pk}/change/", {"name": "x"}).status_code == 403


def test_moving_a_token_url_without_the_secret_is_refused_on_the_form(editor, environment):
    credential = credential_create(
        environment=environment,
        name="Ops",
        type="oauth_client_credentials",
        values={"token_url": "http://127.0.0.1:9/token", "client_id": "c1", "client_secret": secrets.CLIENT_SECRET},
    )
    change = f"/admin/credentials/credential/{credential.pk}/change/"
    fields = {"name": "Ops", "client_id": "c1", "scope": "", "request_scheme": "body", "_save": "Save"}

    response = editor.post(change, {**fields, "token_url": "http://127.0.0.2:9/attacker", "client_secret": ""})

    assert _errors(response) == {"client_secret": ["required when token_url changes"]}
    credential.refresh_from_db()
    assert credential.settings["token_url"] == "http://127.0.0.1:9/token"


def test_an_editor_adds_a_tls_credential_and_its_page_warns_of_a_near_expiry(editor, environment):
    ca = TestCa()
    soon = ca.issue("partner-client", server=False, days=5)
    data = {"environment": str(environment.pk), "name": "mTLS", "type": "tls", "_save": "Save"}
    data.update(certificate=soon.certificate, private_key=soon.private_key, ca_certificates=ca.pem)
    assert editor.post(ADD, data).status_code == 302
    credential = Credential.objects.get()
    assert credential.secrets == {"private_key": soon.private_key}
    page = editor.get(f"/admin/credentials/credential/{credential.pk}/change/").content.decode()
    assert "CN=partner-client, issued by CN=Outflow Test CA" in page
    assert "Expires in 4 day(s): replace it soon." in page
    assert soon.private_key.splitlines()[1] not in page


def test_the_tls_form_refuses_a_key_of_another_certificate(editor, environment):
    ca = TestCa()
    one, other = ca.issue("one", server=False), ca.issue("other", server=False)
    data = {"environment": str(environment.pk), "name": "mTLS", "type": "tls", "_save": "Save"}
    data.update(certificate=one.certificate, private_key=other.private_key)
    errors = _errors(editor.post(ADD, data))
    assert errors == {"private_key": ["the private key does not belong to the certificate"]}
    assert Credential.objects.count() == 0

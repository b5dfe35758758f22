"""The provider's endpoints come from its discovery document; one that cannot be read, or names another issuer, is a
message on the login page; with single sign-on unset its pages do not exist."""

import json

import pytest
from django.test import Client

from tenancy import oidc_discovery
from tenancy.oidc_discovery import ProviderUnavailable, provider_endpoints
from tests.throwaway_servers import free_port

PATH = "/idp/.well-known/openid-configuration"


@pytest.fixture
def configured(settings, receiver):
    settings.OUTFLOW_OIDC_ISSUER = receiver.url("/idp")
    settings.OUTFLOW_OIDC_CLIENT_ID = "outflow"
    oidc_discovery._cached.clear()
    yield settings
    oidc_discovery._cached.clear()


def _document(issuer: str) -> bytes:
    names = ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]
    return json.dumps({"issuer": issuer, **{name: f"{issuer}/{name}" for name in names}}).encode()


def test_the_endpoints_come_from_the_discovery_document_read_once(configured, receiver):
    receiver.script(PATH, statuses=[200], body=_document(receiver.url("/idp")))
    assert provider_endpoints().token_endpoint == receiver.url("/idp/token_endpoint")
    assert provider_endpoints().jwks_uri == receiver.url("/idp/jwks_uri")
    assert len(receiver.received(PATH)) == 1


def test_a_document_naming_another_issuer_is_refused(configured, receiver):
    receiver.script(PATH, statuses=[200], body=_document("https://attacker.test"))
    with pytest.raises(ProviderUnavailable, match="names issuer"):
        provider_endpoints()


def test_a_provider_that_cannot_be_reached_is_a_message_on_the_login_page(configured, db):
    configured.OUTFLOW_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/idp"
    response = Client().get("/admin/sso/start/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/login/"
    assert "identity provider cannot be reached" in response.content.decode()


def test_without_single_sign_on_its_pages_do_not_exist(client, settings):
    settings.OUTFLOW_OIDC_ISSUER = ""
    assert client.get("/admin/sso/start/").status_code == 404
    assert client.get("/admin/sso/callback/?code=x&state=y").status_code == 404

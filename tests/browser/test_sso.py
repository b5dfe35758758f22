"""Single sign-on to the Workbench in a real browser, against a real OpenID Connect provider on loopback
(django-oauth-toolkit, tests/oidc_provider_server.py): a member whose email the provider has verified signs in (and,
the provider being the judge of the sign-in, OUTFLOW_REQUIRE_MFA asks them for no code); an unverified email, an
unknown one, and a user without a membership get in nowhere."""

import pytest
from django.contrib.auth import get_user_model

from tenancy import oidc_discovery
from tenancy.services import member_set
from tests.oidc_provider_server import OidcProvider

pytestmark = [pytest.mark.browser]

PASSWORD = "provider-password-7Qz"
PROVIDER_USERS = [
    {"username": "ada", "email": "ada@acme.test", "email_verified": True},
    {"username": "bob", "email": "bob@acme.test", "email_verified": False},
    {"username": "cyd", "email": "cyd@elsewhere.test", "email_verified": True},
    {"username": "dee", "email": "dee@acme.test", "email_verified": True},
]


@pytest.fixture(scope="session")
def provider(live_server):
    provider = OidcProvider(
        redirect_uris=[f"{live_server.url}/admin/sso/callback/"],
        users=[{**user, "password": PASSWORD} for user in PROVIDER_USERS],
    )
    yield provider
    provider.close()


@pytest.fixture
def sso(provider, settings, transactional_db):
    settings.OUTFLOW_OIDC_ISSUER = provider.issuer
    settings.OUTFLOW_OIDC_CLIENT_ID = provider.client_id
    settings.OUTFLOW_OIDC_CLIENT_SECRET = provider.client_secret
    oidc_discovery._cached.clear()
    return provider


def _sign_in_through_sso(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.click("text=Sign in with SSO")
    page.wait_for_selector("#provider-login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#provider-submit")
    page.wait_for_url(f"{live_server.url}/admin/**")


def test_a_member_with_a_verified_email_signs_in_through_sso(sso, browser_page, live_server, environment, settings):
    settings.OUTFLOW_REQUIRE_MFA = True
    member, _ = member_set(environment=environment, username="ada-at-acme", email="Ada@Acme.test", role="viewer")
    page = browser_page
    _sign_in_through_sso(page, live_server, "ada")
    assert page.url == f"{live_server.url}/admin/"
    assert "ada-at-acme" in page.text_content("#user-tools")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    assert page.url.endswith("/admin/subscriptions/subscription/") and page.locator("#changelist").count() == 1


def test_an_unverified_or_unknown_email_or_a_user_without_a_membership_gets_in_nowhere(
    sso, browser_page, live_server, environment
):
    member_set(environment=environment, username="bob-at-acme", email="bob@acme.test")
    get_user_model().objects.create_user("dee-at-acme", email="dee@acme.test", is_staff=True)
    users_before = get_user_model().objects.count()
    page = browser_page
    for username in ("bob", "cyd", "dee"):
        _sign_in_through_sso(page, live_server, username)
        assert page.url.startswith(f"{live_server.url}/admin/login/"), username
        assert "Single sign-on did not sign you in" in page.inner_text(".messagelist"), username
        page.goto(f"{live_server.url}/admin/")
        assert page.url.startswith(f"{live_server.url}/admin/login/"), username
    assert get_user_model().objects.count() == users_before

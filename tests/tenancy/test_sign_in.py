"""Password sign-in to the Workbench: the code where the member has a device, the Two-factor page, and
OUTFLOW_REQUIRE_MFA leading every other Workbench page there until the member adds one."""

import re
import time

import pyotp
import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver

from tenancy.models import TotpDevice
from tenancy.services import member_set
from tenancy.totp import totp_device_replace, totp_uri
from tenancy.urls import urlpatterns as sign_in_urlpatterns

TWO_FACTOR = "/admin/two-factor/"


@pytest.fixture(autouse=True)
def no_throttling(settings):
    settings.OUTFLOW_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def member(environment):
    member, password = member_set(environment=environment, username="dana")
    member.password = password
    return member


def _sign_in(member, code: str | None = None) -> tuple[Client, object]:
    client = Client()
    data = {"username": member.user.username, "password": member.password}
    if code is not None:
        data["otp_token"] = code
    return client, client.post("/admin/login/?next=/admin/", data)


def _signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_without_a_device_the_password_signs_in(member):
    client, response = _sign_in(member)
    assert response.status_code == 302 and _signed_in(client)


def test_with_a_device_the_login_asks_for_the_code(member):
    app = pyotp.parse_uri(totp_uri(totp_device_replace(user=member.user)))
    client, response = _sign_in(member)
    assert response.status_code == 200 and "signs in with a two-factor code" in response.content.decode()
    assert not _signed_in(client)
    wrong = "000000" if app.now() != "000000" else "111111"
    client, response = _sign_in(member, wrong)
    assert "not right" in response.content.decode() and not _signed_in(client)
    client, response = _sign_in(member, app.now())
    assert response.status_code == 302 and _signed_in(client)
    # The same code does not sign in a second time.
    client, response = _sign_in(member, app.now())
    assert response.status_code == 200 and not _signed_in(client)


def test_a_wrong_password_with_a_right_code_does_not_sign_in(member):
    app = pyotp.parse_uri(totp_uri(totp_device_replace(user=member.user)))
    member.password = "not-the-password"
    client, response = _sign_in(member, app.now())
    assert response.status_code == 200 and not _signed_in(client)


def test_the_login_page_has_the_code_field_and_no_sso_button_unless_configured(client, settings):
    page = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in page and "Sign in with SSO" not in page
    settings.OUTFLOW_OIDC_ISSUER, settings.OUTFLOW_OIDC_CLIENT_ID = "http://127.0.0.1:9/idp", "outflow"
    assert "Sign in with SSO" in client.get("/admin/login/").content.decode()


def test_the_header_links_the_two_factor_page(member):
    client, _ = _sign_in(member)
    assert f'href="{TWO_FACTOR}"' in client.get("/admin/").content.decode()


def test_a_member_adds_a_device_on_the_two_factor_page_and_then_signs_in_with_it(member):
    client, _ = _sign_in(member)
    page = client.get(TWO_FACTOR).content.decode()
    uri = re.search(r'<code id="totp-uri">([^<]+)</code>', page).group(1).replace("&amp;", "&")
    assert 'src="data:image/svg+xml;base64,' in page
    app = pyotp.parse_uri(uri)
    assert "not right" in client.post(TWO_FACTOR, {"token": "12345x"}).content.decode()
    assert not TotpDevice.objects.filter(user=member.user, confirmed=True).exists()
    response = client.post(TWO_FACTOR, {"token": app.now()})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert "Two-factor sign-in is on" in client.get(TWO_FACTOR).content.decode()
    client, response = _sign_in(member)
    assert not _signed_in(client)
    client, response = _sign_in(member, app.at(time.time() + 30))
    assert _signed_in(client)


def _admin_paths() -> list[str]:
    """A path for every URL pattern of the Workbench (each model admin's, custom views among them), each parameter
    filled with a value of its shape."""

    def walk(patterns, prefix: str):
        for pattern in patterns:
            route = str(pattern.pattern).lstrip("^").rstrip("$")
            route = re.sub(r"<[^>]+>", "1", route)
            route = re.sub(r"\(\?P<[^>]+>[^()]*\)", "1", route).replace("\\", "")
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                yield prefix + route

    return sorted(set(walk([*admin.site.get_urls(), *sign_in_urlpatterns], "/admin/")))


def test_with_require_mfa_a_password_alone_reaches_only_the_two_factor_page(member, settings):
    settings.OUTFLOW_REQUIRE_MFA = True
    client, response = _sign_in(member)
    assert response.status_code == 302
    paths = _admin_paths()
    assert len(paths) > 40 and "/admin/subscriptions/subscription/1/change/" in paths
    reached = []
    for path in paths:
        if path in (TWO_FACTOR, "/admin/login/", "/admin/logout/"):
            continue
        for response in (client.get(path), client.post(path, {})):
            if not (response.status_code == 302 and response["Location"] == TWO_FACTOR):
                reached.append((path, response.status_code))
    assert reached == []
    assert client.get(TWO_FACTOR).status_code == 200
    # Once the member adds a device, the Workbench opens.
    uri = re.search(r'<code id="totp-uri">([^<]+)</code>', client.get(TWO_FACTOR).content.decode()).group(1)
    client.post(TWO_FACTOR, {"token": pyotp.parse_uri(uri.replace("&amp;", "&")).now()})
    assert _signed_in(client)


def test_with_require_mfa_a_member_with_a_device_signs_in_with_the_code(member, settings):
    settings.OUTFLOW_REQUIRE_MFA = True
    app = pyotp.parse_uri(totp_uri(totp_device_replace(user=member.user)))
    client, _ = _sign_in(member, app.now())
    assert _signed_in(client)


def test_with_require_mfa_a_session_from_before_the_device_gives_a_code_on_the_two_factor_page(member, settings):
    client, _ = _sign_in(member)
    app = pyotp.parse_uri(totp_uri(totp_device_replace(user=member.user)))
    settings.OUTFLOW_REQUIRE_MFA = True
    assert client.get("/admin/").status_code == 302
    assert "enter the code it shows to go on" in client.get(TWO_FACTOR).content.decode()
    client.post(TWO_FACTOR, {"token": app.now()})
    assert _signed_in(client)


def test_without_require_mfa_the_workbench_opens_to_a_password_alone(member):
    client, _ = _sign_in(member)
    assert client.get("/admin/subscriptions/subscription/").status_code == 200

"""Two-factor sign-in in a real browser: a member adds an authenticator app on the Two-factor page (the QR code shows,
the URI's first code turns it on), then signs in with password and code; OUTFLOW_REQUIRE_MFA leads there first."""

import time

import pyotp
import pytest

from tenancy.services import member_set

pytestmark = [pytest.mark.browser]


def test_a_member_adds_an_app_when_required_then_signs_in_with_its_code(
    browser_page, live_server, environment, settings, transactional_db
):
    settings.OUTFLOW_REQUIRE_MFA = True
    settings.OUTFLOW_TOTP_THROTTLE_FACTOR = 0
    _, password = member_set(environment=environment, username="dana")
    page = browser_page

    def sign_in(code: str = "") -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "dana")
        page.fill("#id_password", password)
        page.fill("#id_otp_token", code)
        page.click("input[type=submit]")

    sign_in()
    page.wait_for_url(f"{live_server.url}/admin/two-factor/")
    assert page.evaluate("document.getElementById('totp-qr-code').naturalWidth") > 0
    app = pyotp.parse_uri(page.inner_text("#totp-uri"))
    page.fill("#id_token", app.now())
    page.click("#two-factor-form input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "Two-factor sign-in is on" in page.inner_text(".messagelist")

    page.context.clear_cookies()
    sign_in()
    assert "signs in with a two-factor code" in page.inner_text(".errornote")
    sign_in(app.at(time.time() + 30))
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    assert page.locator("#changelist").count() == 1

"""Check credential in Chromium: an editor and an owner check an OAuth credential against a real token endpoint and
read the true result on the credential's page; a viewer is offered no button; another environment's member reaches
nothing."""

import json
import os
from pathlib import Path

import pytest

from credentials.services import credential_create
from tenancy.services import environment_create
from tests import secrets

pytestmark = pytest.mark.browser

TOKEN = json.dumps({"access_token": secrets.ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}).encode()


@pytest.fixture
def credential(environment, receiver):
    return credential_create(
        environment=environment,
        name="Token login",
        type="oauth_client_credentials",
        values={"token_url": receiver.url("/token"), "client_id": "client-1", "client_secret": secrets.CLIENT_SECRET},
    )


def _check(page) -> str:
    page.click("#check-credential")
    page.wait_for_selector(".messagelist li")
    content = page.content()
    assert secrets.CLIENT_SECRET not in content and secrets.ACCESS_TOKEN not in content
    return page.inner_text(".messagelist")


@pytest.mark.parametrize("role", ["editor", "owner"])
def test_a_check_shows_its_true_result_on_the_page(
    member_sign_in, live_server, environment, receiver, credential, role, tmp_path
):
    receiver.script("/token", statuses=[200, 401], body=TOKEN, headers={"Content-Type": "application/json"})
    page = member_sign_in(environment, "erin", role)
    page.goto(f"{live_server.url}/admin/credentials/credential/")
    page.click("text=Token login")
    page.wait_for_selector("#check-credential")

    assert _check(page) == "Check passed: the token endpoint gave a token."
    assert page.locator(".messagelist li.success").count() == 1
    assert page.url.endswith(f"/admin/credentials/credential/{credential.pk}/change/")

    assert _check(page) == "Check failed: token endpoint answered 401."
    assert page.locator(".messagelist li.error").count() == 1
    # OUTFLOW_SCREENSHOT_DIR=docs refreshes the screenshot kept in docs/.
    page.screenshot(
        path=str(Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path)) / "workbench-credential-check.png")
    )
    assert len(receiver.received("/token")) == 2


def test_a_viewer_is_offered_no_check(member_sign_in, live_server, environment, receiver, credential):
    page = member_sign_in(environment, "vic", "viewer")
    page.goto(f"{live_server.url}/admin/credentials/credential/{credential.pk}/change/")
    page.wait_for_selector("#content")
    assert page.locator("#check-credential, form[action$='/check/']").count() == 0
    assert "Token login" in page.inner_text("#content")
    assert receiver.received("/token") == []


def test_another_environment_s_member_reaches_no_check(member_sign_in, live_server, receiver, credential):
    other, _ = environment_create(name="globex")
    page = member_sign_in(other, "gus", "owner")
    response = page.goto(f"{live_server.url}/admin/credentials/credential/{credential.pk}/change/")
    assert response.status == 404 and "Token login" not in page.content()
    # A forged POST from the stranger's own session, with its CSRF token, is refused as unknown.
    page.goto(f"{live_server.url}/admin/credentials/credential/")
    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
            const response = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token}});
            return response.status;
        }""",
        f"/admin/credentials/credential/{credential.pk}/check/",
    )
    assert status == 404 and receiver.received("/token") == []

"""The Workbench as its members use it: an editor sets up a credential and a subscription through the forms and the
real worker delivers with them; Send test, the request log in a new tab, export settings; another environment's member
sees none of it; a viewer cannot add, change or send."""

import base64
import json
import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from credentials.models import Credential
from subscriptions.models import ExportSettings, Subscription
from subscriptions.services import subscription_create
from tenancy.services import environment_create
from tests import secrets
from tests.e2e.steps import wait_until
from tests.factories import event

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def screenshots(tmp_path) -> Path:
    # OUTFLOW_SCREENSHOT_DIR=docs refreshes the screenshots kept in docs/.
    return Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path))


def _save(page) -> None:
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")


def _reloaded_shows(page, text: str) -> bool:
    page.reload()
    return text in page.inner_text("#result_list")


def test_an_editor_sets_up_a_subscription_that_delivers_tests_and_shows_its_log(
    member_sign_in, live_server, environment, receiver, worker, screenshots
):
    page = member_sign_in(environment, "erin")
    page.goto(f"{live_server.url}/admin/credentials/credential/add/")
    page.fill("#id_name", "Receiver login")
    page.select_option("#id_type", "aws_signed_request")
    assert page.is_visible("#id_access_key_id") and not page.is_visible("#id_username")
    page.select_option("#id_type", "basic_auth")
    assert page.is_visible("#id_username") and not page.is_visible("#id_access_key_id")
    assert not page.is_visible("#id_client_secret")
    page.fill("#id_username", "outflow")
    page.fill("#id_password", secrets.PASSWORD)
    page.screenshot(path=str(screenshots / "workbench-credential.png"), full_page=True)
    _save(page)
    credential = Credential.objects.get()
    assert credential.environment == environment and credential.secrets == {"password": secrets.PASSWORD}

    page.goto(f"{live_server.url}/admin/subscriptions/subscription/add/")
    page.fill("#id_name", "Analytics receiver")
    page.check("input[name=event_types][value=card-completed]")
    page.fill("#id_url", receiver.url("/hook"))
    page.fill("#id_header_lines", "X-Team: growth")
    page.select_option("#id_credential", str(credential.pk))
    _save(page)
    subscription = Subscription.objects.get()
    assert subscription.credential == credential and subscription.headers == {"X-Team": "growth"}

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {environment.api_key}")
    assert api.post("/api/v1/events", event(), format="json").status_code == 202
    [delivered] = receiver.wait_for(1, "/hook")
    assert (
        delivered.headers["authorization"]
        == "Basic " + base64.b64encode(f"outflow:{secrets.PASSWORD}".encode()).decode()
    )
    assert delivered.headers["x-team"] == "growth"
    assert json.loads(delivered.body).get("test") is not True

    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    wait_until(lambda: _reloaded_shows(page, "100% of 1"))
    assert "active" in page.inner_text("#result_list")

    page.click("text=Analytics receiver")
    page.wait_for_selector("#send-test")
    assert page.get_attribute("#request-log-link", "target") == "_blank"
    page.click("#send-test")
    page.click("#send-test-submit")
    page.wait_for_selector("#send-test-result.send-test-succeeded")
    assert page.inner_text("#send-test-status").startswith("2")
    tested = receiver.wait_for(2, "/hook")[1]
    assert json.loads(tested.body)["test"] is True and tested.headers["x-team"] == "growth"

    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    with page.context.expect_page() as opened:
        page.click("#request-log-link")
    log_page = opened.value
    log_page.wait_for_selector("#result_list")
    assert f"subscription__id__exact={subscription.pk}" in log_page.url
    assert page.url.endswith(f"/admin/subscriptions/subscription/{subscription.pk}/change/")
    assert log_page.locator("#result_list tbody tr").count() == 2

    page.goto(f"{live_server.url}/admin/subscriptions/exportsettings/")
    page.click("#result_list tbody a")
    page.get_by_label("Test card events").check()
    _save(page)
    assert ExportSettings.objects.get(environment=environment).include_test_events


def test_a_member_of_another_environment_sees_none_of_it(member_sign_in, live_server, environment):
    subscription = subscription_create(
        environment=environment, name="Acme receiver", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    other, _ = environment_create(name="globex")
    page = member_sign_in(other, "gus")
    for listing in ["subscriptions/subscription", "credentials/credential", "requestlog/requestlog"]:
        page.goto(f"{live_server.url}/admin/{listing}/")
        assert "Acme receiver" not in page.inner_text("#content")
    base = f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}"
    for guessed in [f"{base}/change/", f"{base}/mapping/", f"{base}/history/"]:
        assert page.goto(guessed).status == 404
        assert "Acme receiver" not in page.content()
    export = ExportSettings.objects.get(environment=environment)
    assert page.goto(f"{live_server.url}/admin/subscriptions/exportsettings/{export.pk}/change/").status == 404


def test_a_viewer_cannot_add_change_or_send(member_sign_in, live_server, environment):
    subscription = subscription_create(
        environment=environment, name="Acme receiver", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    page = member_sign_in(environment, "vic", role="viewer")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    assert "Acme receiver" in page.inner_text("#result_list")
    assert page.locator("a.addlink").count() == 0 and page.locator("select[name=action]").count() == 0
    page.click("text=Acme receiver")
    page.wait_for_selector("#mapping-editor-link")
    assert page.locator("#send-test, #pause, #rotate-secret, #recover, input[name=_save]").count() == 0
    assert page.goto(f"{live_server.url}/admin/subscriptions/subscription/add/").status == 403
    assert page.goto(f"{live_server.url}/admin/credentials/credential/add/").status == 403
    assert Subscription.objects.get().name == "Acme receiver" and subscription.status == "active"

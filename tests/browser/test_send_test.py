"""Send test from the subscription page: an event type's example or a pasted event, and the true result on the same
page, a failure shown as one."""

import json
import os
from pathlib import Path

import pytest

from requestlog.models import RequestLog
from subscriptions.services import subscription_create

pytestmark = pytest.mark.browser


def test_send_test_sends_the_chosen_type_and_shows_the_answer_on_the_page(
    admin_login, live_server, environment, receiver
):
    receiver.script("/hook", statuses=[202])
    subscription = subscription_create(
        environment=environment,
        name="Browser sink",
        event_types=["card-completed", "card-dismissed"],
        url=receiver.url("/hook"),
    )
    page = admin_login()
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    page.click("text=Browser sink")
    page.click("#send-test")
    page.select_option("#id_event_type", "card-dismissed")
    assert RequestLog.objects.count() == 0

    page.click("#send-test-submit")

    page.wait_for_selector("#send-test-result.send-test-succeeded")
    assert page.inner_text("#send-test-result h2").startswith("Succeeded:")
    assert page.inner_text("#send-test-status") == "202"
    [request] = receiver.received("/hook")
    assert json.loads(request.body)["eventName"] == "card-dismissed"
    entry = RequestLog.objects.get()
    assert entry.is_test and entry.subscription_id == subscription.pk
    page.click("#send-test-entry")
    page.wait_for_selector("text=Request body")
    assert '"test":true' in page.inner_text("#content")


def test_a_failed_send_test_shows_as_a_failure_with_the_response(
    admin_login, live_server, environment, receiver, tmp_path
):
    receiver.script("/hook", statuses=[500], body=b"receiver exploded")
    subscription = subscription_create(
        environment=environment, name="Broken sink", event_types=["card-completed"], url=receiver.url("/hook")
    )
    page = admin_login()
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/send-test/")
    page.fill("#id_event", "[1, 2]")
    page.click("#send-test-submit")
    page.wait_for_selector(".errorlist")
    assert "must be a JSON object" in page.inner_text(".errorlist") and receiver.received() == []

    page.fill("#id_event", '{"id": "pasted-1", "eventName": "card-completed", "timestamp": "2026-11-28T10:00:00Z"}')
    page.click("#send-test-submit")
    page.wait_for_selector("#send-test-result.send-test-failed")
    assert page.inner_text("#send-test-result h2").startswith("Failed:")
    assert page.inner_text("#send-test-status") == "500"
    assert page.inner_text("#send-test-response") == "receiver exploded"
    # OUTFLOW_SCREENSHOT_DIR=docs refreshes the screenshot kept in docs/.
    page.screenshot(path=str(Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path)) / "workbench-send-test.png"))
    [request] = receiver.received("/hook")
    assert json.loads(request.body)["id"] == "pasted-1"

"""A person in the admin opens a subscription, presses Send test, and sees the new request log entry."""

import pytest

from requestlog.models import RequestLog
from subscriptions.services import subscription_create

pytestmark = pytest.mark.browser


def test_send_test_from_the_subscription_page_shows_the_entry(admin_login, live_server, environment, receiver):
    receiver.script("/hook", statuses=[202])
    subscription = subscription_create(
        environment=environment, name="Browser sink", event_types=["card-completed"], url=receiver.url("/hook")
    )
    page = admin_login()
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    page.click("text=Browser sink")
    page.wait_for_selector("#send-test")
    assert RequestLog.objects.count() == 0

    page.click("#send-test")

    page.wait_for_selector("#result_list")
    assert "Test request sent" in page.inner_text(".messagelist")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "202" in rows.first.inner_text()
    assert len(receiver.received("/hook")) == 1
    entry = RequestLog.objects.get()
    assert entry.is_test and entry.subscription_id == subscription.pk
    rows.first.locator("th a").click()
    page.wait_for_selector("text=Request body")
    assert '"test":true' in page.inner_text("#content")

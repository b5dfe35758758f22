"""The Workbench's notification settings as an editor uses them: set the webhook and the emails on the environment's
page, see the secret, and resume a paused subscription from its page: the real worker sends subscription.resumed,
signed with that secret; rotate the secret from the page: the next notification verifies with both."""

import json
import os
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.addresses import confirmation_token
from notifications.models import NotificationSettings
from notifications.services import notification_settings_update
from subscriptions.services import subscription_create, subscription_pause, subscription_resume
from tenancy.services import member_set

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _editor_signed_in(live_server, page, environment) -> None:
    _, password = member_set(environment=environment, username="erin")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def test_an_editor_sets_notifications_and_a_resume_from_the_page_is_notified(
    live_server, browser_page, transactional_db, environment, receiver, worker, tmp_path
):
    screenshots = Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path))
    page = browser_page
    _editor_signed_in(live_server, page, environment)

    page.goto(f"{live_server.url}/admin/notifications/notificationsettings/")
    page.click("#result_list tbody a")
    page.get_by_label("Webhook URL").fill(receiver.url("/ops"))
    page.get_by_label("Emails").fill("ops@example.com\noncall@example.com")
    secret = NotificationSettings.objects.get(environment=environment).secret
    assert secret in page.inner_text("#content")
    page.screenshot(path=str(screenshots / "workbench-notifications.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    stored = NotificationSettings.objects.get(environment=environment)
    assert stored.webhook_url == receiver.url("/ops") and stored.emails == ["ops@example.com", "oncall@example.com"]

    subscription = subscription_create(
        environment=environment, name="Orders", event_types=["card-completed"], url=receiver.url("/hook")
    )
    subscription_pause(subscription=subscription, reason="by hand")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    page.click("#resume")
    page.wait_for_selector(".messagelist .success")

    [request] = receiver.wait_for(1, "/ops")
    notification = Webhook(secret).verify(request.body, request.headers)
    assert notification["type"] == "subscription.resumed"
    assert notification["data"]["subscription"] == {
        "id": str(subscription.pk),
        "name": "Orders",
        "url": receiver.url("/hook"),
    }
    assert json.loads(request.body) == notification


def test_the_owner_of_an_address_confirms_it_from_the_mails_link_whose_token_the_server_never_sees(
    live_server, browser_page, transactional_db, environment
):
    notification_settings_update(environment=environment, emails=["ops@example.com"])
    token = confirmation_token(environment_id=environment.pk, email="ops@example.com")
    seen = []
    browser_page.on("request", lambda request: seen.append(request.url))

    browser_page.goto(f"{live_server.url}/notifications/confirm#{token}")
    assert browser_page.inner_text("#email") == "ops@example.com"
    assert NotificationSettings.objects.get(environment=environment).confirmed_emails == []
    browser_page.click("#confirm")
    browser_page.wait_for_selector("text=Confirmed")

    assert NotificationSettings.objects.get(environment=environment).confirmed_emails == ["ops@example.com"]
    assert seen and all(token not in url for url in seen)


def test_a_link_without_its_token_cannot_confirm(live_server, browser_page, transactional_db):
    browser_page.goto(f"{live_server.url}/notifications/confirm")
    assert browser_page.is_disabled("#confirm")


def test_an_editor_rotates_the_secret_and_the_next_notification_verifies_with_both(
    live_server, browser_page, transactional_db, environment, receiver, worker
):
    old = notification_settings_update(environment=environment, webhook_url=receiver.url("/ops")).secret
    page = browser_page
    _editor_signed_in(live_server, page, environment)
    page.goto(f"{live_server.url}/admin/notifications/notificationsettings/")
    page.click("#result_list tbody a")

    page.click("#rotate-secret")

    new = page.inner_text("#new-secret")
    assert new == NotificationSettings.objects.get(environment=environment).secret != old
    assert "keeps signing alongside it for 24 hours" in page.inner_text("#content")
    page.click("text=Back to the notification settings")
    assert new in page.inner_text("#content") and old not in page.inner_text("#content")

    subscription = subscription_create(
        environment=environment, name="Orders", event_types=["card-completed"], url=receiver.url("/hook")
    )
    subscription_pause(subscription=subscription, reason="by hand")
    subscription_resume(subscription=subscription)
    [request] = receiver.wait_for(1, "/ops")
    assert Webhook(old).verify(request.body, request.headers) == Webhook(new).verify(request.body, request.headers)

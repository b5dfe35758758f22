"""The Workbench's notification settings: one page per environment, editors change and rotate the secret, viewers
read, others 404."""

import pytest
from django.core import mail

from notifications.addresses import EMAIL_CONFIRMATION, confirmation_token
from notifications.models import Notification, NotificationSettings
from notifications.selectors import notification_settings_of
from notifications.sending import notification_send
from notifications.services import notification_record, notification_settings_update
from subscriptions.services import subscription_create, subscription_pause
from tenancy.services import environment_create
from tests.factories import member_client

LIST = "/admin/notifications/notificationsettings/"


def _page(settings_row: NotificationSettings) -> str:
    return f"{LIST}{settings_row.pk}/change/"


def _rotate(settings_row: NotificationSettings) -> str:
    return f"{LIST}{settings_row.pk}/rotate-secret/"


@pytest.fixture
def theirs(catalog):
    environment, _ = environment_create(name="globex")
    notification_settings_update(environment=environment, emails=["globex-ops@example.com"])
    notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
    return notification_settings_of(environment=environment)


def test_the_list_has_a_page_per_environment_of_the_member_only(environment, theirs):
    editor = member_client(environment, "ed")

    text = editor.get(LIST).content.decode()

    ours = NotificationSettings.objects.get(environment=environment)
    assert _page(ours) in text and _page(theirs) not in text and "globex" not in text.lower()


def test_an_editor_sees_the_secret_and_changes_the_settings(environment, receiver):
    editor = member_client(environment, "ed")
    ours = notification_settings_of(environment=environment)
    page = editor.get(_page(ours)).content.decode()
    assert ours.secret in page and "Webhook URL" in page and "Emails" in page

    response = editor.post(
        _page(ours), {"webhook_url": receiver.url("/ops"), "email_lines": "ops@example.com\n\noncall@example.com\n"}
    )

    assert response.status_code == 302
    ours.refresh_from_db()
    assert ours.webhook_url == receiver.url("/ops") and ours.emails == ["ops@example.com", "oncall@example.com"]


def test_the_form_refuses_what_the_api_refuses(environment, settings):
    editor = member_client(environment, "ed")
    ours = notification_settings_of(environment=environment)
    settings.OUTFLOW_ALLOW_PRIVATE_TARGETS = False

    response = editor.post(_page(ours), {"webhook_url": "http://127.0.0.1/ops", "email_lines": "not-an-email"})

    text = response.content.decode()
    assert response.status_code == 200
    assert "is not a public address" in text and "is not a valid email address" in text
    ours.refresh_from_db()
    assert ours.webhook_url is None and ours.emails == []


def test_a_viewer_reads_without_the_secret_and_cannot_change(environment):
    viewer = member_client(environment, "vi", role="viewer")
    ours = notification_settings_update(environment=environment, emails=["ops@example.com"])

    page = viewer.get(_page(ours)).content.decode()
    assert "ops@example.com" in page and ours.secret not in page and "<textarea" not in page

    assert viewer.post(_page(ours), {"webhook_url": "", "email_lines": ""}).status_code == 403
    assert NotificationSettings.objects.get(pk=ours.pk).emails == ["ops@example.com"]


def test_another_environments_settings_and_notifications_answer_404(environment, theirs):
    their_notification = Notification.objects.get(environment=theirs.environment)
    for client in (member_client(environment, "ed"), member_client(environment, "vi", role="viewer")):
        assert client.get(_page(theirs)).status_code == 404
        assert client.post(_page(theirs), {"webhook_url": "", "email_lines": "x@example.com"}).status_code == 404
        assert client.get(f"/admin/notifications/notification/{their_notification.pk}/change/").status_code == 404
        assert "globex" not in client.get("/admin/notifications/notification/").content.decode().lower()
    assert NotificationSettings.objects.get(pk=theirs.pk).emails == ["globex-ops@example.com"]


def test_a_resume_from_the_subscription_page_and_the_list_action_is_notified(environment, receiver):
    editor = member_client(environment, "ed")
    notification_settings_update(environment=environment, webhook_url=receiver.url("/ops"))
    subscription = subscription_create(
        environment=environment, name="Orders", event_types=["card-completed"], url=receiver.url("/hook")
    )
    subscription_pause(subscription=subscription, reason="by hand")

    editor.post(f"/admin/subscriptions/subscription/{subscription.pk}/resume/")
    subscription_pause(subscription=subscription, reason="by hand")
    editor.post("/admin/subscriptions/subscription/", {"action": "resume", "_selected_action": [str(subscription.pk)]})

    resumed = Notification.objects.filter(environment=environment, type="subscription.resumed")
    assert resumed.count() == 2
    assert {row.payload["data"]["subscription"]["id"] for row in resumed} == {str(subscription.pk)}


def test_an_address_saved_in_the_workbench_is_sent_a_confirmation_and_shown_awaiting_it(environment, client):
    editor = member_client(environment, "ed")
    ours = notification_settings_of(environment=environment)
    editor.post(_page(ours), {"webhook_url": "", "email_lines": "ops@example.com\noncall@example.com"})
    for notification in Notification.objects.filter(type=EMAIL_CONFIRMATION):
        notification_send(notification_id=notification.pk)
    assert sorted(message.to[0] for message in mail.outbox) == ["oncall@example.com", "ops@example.com"]

    token = confirmation_token(environment_id=environment.pk, email="ops@example.com")
    client.post("/notifications/confirm", {"token": token})

    page = editor.get(_page(ours)).content.decode()
    assert "ops@example.com (confirmed)" in page and "oncall@example.com (awaiting confirmation)" in page


def test_an_editor_rotates_the_secret_from_the_page_and_sees_the_new_one_uncached(environment):
    from django.contrib.admin.models import LogEntry

    editor = member_client(environment, "ed")
    ours = notification_settings_of(environment=environment)
    old = ours.secret
    assert 'id="rotate-secret"' in editor.get(_page(ours)).content.decode()
    assert editor.get(_rotate(ours)).status_code == 405

    rotated = editor.post(_rotate(ours))

    ours.refresh_from_db()
    assert ours.secret != old and ours.previous_secret == old and ours.previous_secret_expires_at is not None
    text = rotated.content.decode()
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    assert f'<code id="new-secret">{ours.secret}</code>' in text and old not in text and "24 hours" in text
    history = list(LogEntry.objects.values_list("change_message", flat=True))
    assert history == ["Rotated the signing secret."]


def test_a_viewer_has_no_rotate_button_and_cannot_rotate(environment):
    viewer = member_client(environment, "vi", role="viewer")
    ours = notification_settings_of(environment=environment)

    assert 'id="rotate-secret"' not in viewer.get(_page(ours)).content.decode()
    assert viewer.post(_rotate(ours)).status_code == 403
    assert NotificationSettings.objects.get(pk=ours.pk).secret == ours.secret


def test_another_environments_secret_cannot_be_rotated(environment, theirs):
    for client in (member_client(environment, "ed"), member_client(environment, "vi", role="viewer")):
        assert client.post(_rotate(theirs)).status_code == 404
    assert NotificationSettings.objects.get(pk=theirs.pk).secret == theirs.secret


def test_send_test_notification_from_the_page_for_editors_only_and_never_another_environments(
    environment, theirs, receiver
):
    editor = member_client(environment, "ed")
    viewer = member_client(environment, "vi", role="viewer")
    ours = notification_settings_of(environment=environment)
    send = f"{LIST}{ours.pk}/send-test/"
    assert 'id="send-test-notification"' in editor.get(_page(ours)).content.decode()
    assert 'id="send-test-notification"' not in viewer.get(_page(ours)).content.decode()
    nowhere = editor.post(send, follow=True).content.decode()
    assert "No test notification sent: nothing to send to" in nowhere
    notification_settings_update(environment=environment, webhook_url=receiver.url("/ops"))
    sent = editor.post(send, follow=True).content.decode()
    assert "A test notification is on its way by the webhook" in sent
    assert viewer.post(send).status_code == 403
    assert editor.get(send).status_code == 405
    for client in (editor, viewer):
        assert client.post(f"{LIST}{theirs.pk}/send-test/").status_code == 404
    assert list(Notification.objects.filter(type="notification.test").values_list("environment_id", flat=True)) == [
        environment.pk
    ]

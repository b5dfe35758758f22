"""Sending notifications: signed webhooks verified with standardwebhooks, mail through Django's backend, retries
with the same webhook-id, claims, cancelled and exhausted rows, and nothing secret in the logs."""

import json
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from config.celery import app
from notifications import sending
from notifications.models import Notification
from notifications.selectors import notification_settings_of
from notifications.sending import notification_claim, notification_send
from notifications.services import notification_record, notification_settings_update
from notifications.sweeper import NO_TRY_LEFT, notifications_due_enqueue, notifications_exhausted_fail
from outbound.masking import MASK
from subscriptions.services import subscription_create, subscription_pause, subscription_resume
from tests.notifications.steps import settings_confirmed

DATA = {"subscription": {"id": "s-1", "name": "Orders\nBcc: x@evil.test", "url": "http://127.0.0.1:9/h"}, "reason": "r"}


def _recorded(environment, **settings) -> list[Notification]:
    settings_confirmed(environment, **settings)
    return notification_record(environment_id=environment.pk, type="subscription.paused", data=DATA)


def _due_now(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_webhook_notification_is_signed_with_the_notification_secret(environment, receiver):
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))

    notification_send(notification_id=notification.pk)

    [request] = receiver.received("/ops")
    secret = notification_settings_of(environment=environment).secret
    verified = Webhook(secret).verify(request.body, request.headers)
    assert verified == notification.payload and verified["type"] == "subscription.paused"
    assert request.headers["webhook-id"] == str(notification.pk)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Outflow-Webhooks/")
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.attempts == 1
    assert notification.sent_at is not None and notification.lease_expires_at is None


def test_a_failing_receiver_gets_the_notification_again_with_the_same_webhook_id(
    environment, receiver, settings, monkeypatch
):
    settings.OUTFLOW_RETRY_BASE_SECONDS = 10
    receiver.script("/ops", statuses=[500, 503, 200], headers={"Retry-After": "30"})
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))
    enqueued = []
    monkeypatch.setattr(sending, "notifications_enqueue", lambda **kwargs: enqueued.append(kwargs))
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING and notification.attempts == 1
    assert notification.last_error == "endpoint answered 500"
    # The deliveries' back-off: base 10 s ± 20% for the first retry.
    wait = (notification.next_attempt_at - timezone.now()).total_seconds()
    assert 7 <= wait <= 12.5 and enqueued[-1]["countdown"] == pytest.approx(wait, abs=1)

    notification_send(notification_id=notification.pk)
    assert len(receiver.received("/ops")) == 1, "not due yet: the early task does nothing"
    _due_now(notification)
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    # 503 with Retry-After: 30 waits the longer time.
    assert (notification.next_attempt_at - timezone.now()).total_seconds() > 25
    _due_now(notification)
    notification_send(notification_id=notification.pk)

    requests = receiver.received("/ops")
    assert len(requests) == 3
    assert {request.headers["webhook-id"] for request in requests} == {str(notification.pk)}
    secret = notification_settings_of(environment=environment).secret
    for request in requests:
        Webhook(secret).verify(request.body, request.headers)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.attempts == 3


def test_a_notification_fails_for_good_after_its_tries_and_pauses_nothing(environment, receiver, settings):
    settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS = 2
    receiver.script("/ops", statuses=[500])
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))
    for _ in range(3):
        notification_send(notification_id=notification.pk)
        _due_now(notification)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 2
    assert len(receiver.received("/ops")) == 2


def test_a_claim_is_won_once(environment, receiver):
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))

    assert notification_claim(notification_id=notification.pk) is not None
    assert notification_claim(notification_id=notification.pk) is None


def test_one_webhook_notification_of_an_environment_is_in_flight_at_a_time(environment, receiver):
    first_webhook, first_mail = _recorded(environment, webhook_url=receiver.url("/ops"), emails=["ops@example.com"])
    second_webhook, _ = notification_record(environment_id=environment.pk, type="subscription.paused", data=DATA)

    assert notification_claim(notification_id=first_webhook.pk) is not None
    assert notification_claim(notification_id=second_webhook.pk) is None
    second_webhook.refresh_from_db()
    assert second_webhook.queued is False, "left to the sweeper"
    assert notification_claim(notification_id=first_mail.pk) is not None, "mail is not held up by the webhook"


def test_a_removed_channel_cancels_what_waits_on_it(environment, receiver):
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))
    notification_settings_update(environment=environment, webhook_url=None)

    notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.CANCELLED and receiver.received() == []


def test_mail_goes_through_djangos_email_backend(environment, settings):
    settings.DEFAULT_FROM_EMAIL = "Outflow <alerts@outflow.test>"
    [notification] = _recorded(environment, emails=["ops@example.com", "oncall@example.com"])

    notification_send(notification_id=notification.pk)

    [message] = mail.outbox
    assert message.to == ["ops@example.com", "oncall@example.com"]
    assert message.from_email == "Outflow <alerts@outflow.test>"
    assert message.subject == "[Outflow] subscription.paused: Orders Bcc: x@evil.test"
    assert "was paused" in message.body and "Reason: r" in message.body
    assert json.loads(message.body[message.body.index("{") :]) == notification.payload
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT


def test_a_mail_server_that_refuses_is_retried(environment, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    [notification] = _recorded(environment, emails=["ops@example.com"])

    notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING and notification.attempts == 1
    # The error's class only: the server's own words (its host, an account, a quota) stay in the operator's log.
    assert notification.last_error == "mail not sent: ConnectionRefusedError"


def test_webhook_and_mail_are_separate_rows_so_one_failing_does_not_resend_the_other(environment, receiver):
    receiver.script("/ops", statuses=[500, 204])
    webhook, email = _recorded(environment, webhook_url=receiver.url("/ops"), emails=["ops@example.com"])
    assert (webhook.channel, email.channel) == ("webhook", "email")
    for notification in (webhook, email):
        notification_send(notification_id=notification.pk)
    _due_now(webhook)
    notification_send(notification_id=webhook.pk)
    notification_send(notification_id=email.pk)

    assert len(receiver.received("/ops")) == 2 and len(mail.outbox) == 1


def test_no_secret_in_the_logs_of_a_failing_notification(environment, receiver, caplog):
    receiver.script("/ops", statuses=[500])
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))
    secret = notification_settings_of(environment=environment).secret
    with caplog.at_level(logging.DEBUG):
        notification_send(notification_id=notification.pk)

    assert "failed: endpoint answered 500" in caplog.text
    assert secret not in caplog.text and secret.removeprefix("whsec_") not in caplog.text


def test_an_address_the_mail_backend_cannot_encode_fails_its_tries_instead_of_looping(environment, settings):
    # validate_email takes it; Django's address sanitising raises UnicodeError on its 60-letter domain label.
    [notification] = _recorded(environment, emails=["a@" + "ü" * 60 + ".com"])

    notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING and notification.attempts == 1
    assert notification.lease_expires_at is None and notification.next_attempt_at > timezone.now()
    assert notification.last_error == "internal error while sending (logged)"


def test_one_mail_of_an_environment_is_in_flight_at_a_time_and_the_next_goes_when_it_is_done(
    environment, monkeypatch, django_capture_on_commit_callbacks
):
    settings_confirmed(environment, emails=["ops@example.com"])
    [first] = notification_record(environment_id=environment.pk, type="subscription.paused", data=DATA)
    [second] = notification_record(environment_id=environment.pk, type="subscription.paused", data=DATA)
    assert notification_claim(notification_id=first.pk) is not None
    assert notification_claim(notification_id=second.pk) is None
    Notification.objects.filter(pk=first.pk).update(lease_expires_at=None)
    enqueued = []
    monkeypatch.setattr(sending, "notifications_enqueue", lambda **kwargs: enqueued.append(kwargs))

    with django_capture_on_commit_callbacks(execute=True):
        notification_send(notification_id=first.pk)

    assert [call["notification_ids"] for call in enqueued] == [[second.pk]], "woken, not left to the sweeper"
    notification_send(notification_id=second.pk)
    assert len(mail.outbox) == 2


def test_a_worker_dying_on_the_last_try_spends_it(environment, receiver, settings, django_capture_on_commit_callbacks):
    settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS = 2
    receiver.script("/ops", statuses=[500])
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))
    notification_send(notification_id=notification.pk)
    _due_now(notification)
    assert notification_claim(notification_id=notification.pk).attempts == 2
    # Its worker died in that try: the lease runs out with the try counted.
    Notification.objects.filter(pk=notification.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert notification_claim(notification_id=notification.pk) is None, "no try left"
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_due_enqueue() == 0
    assert notifications_exhausted_fail() == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 2
    assert notification.last_error == NO_TRY_LEFT
    assert len(receiver.received("/ops")) == 1


def test_a_notification_left_with_no_try_when_the_maximum_is_lowered_fails(environment, receiver, settings):
    receiver.script("/ops", statuses=[500])
    [notification] = _recorded(environment, webhook_url=receiver.url("/ops"))
    notification_send(notification_id=notification.pk)
    _due_now(notification)
    settings.OUTFLOW_NOTIFICATION_MAX_ATTEMPTS = 1

    assert notifications_due_enqueue() == 0 and notifications_exhausted_fail() == 1
    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == (Notification.Status.FAILED, NO_TRY_LEFT)


def test_a_subscription_url_is_masked_in_the_payload_and_the_mail(environment, receiver):
    settings_confirmed(environment, webhook_url=receiver.url("/ops"), emails=["ops@example.com"])
    subscription = subscription_create(
        environment=environment,
        name="sink",
        event_types=["card-completed"],
        url=receiver.url("/hook?token=s3cr3t-t0ken&page=2"),
    )
    subscription_pause(subscription=subscription, reason="by hand")
    subscription_resume(subscription=subscription)
    for notification in Notification.objects.all():
        notification_send(notification_id=notification.pk)

    [request] = receiver.received("/ops")
    assert b"s3cr3t-t0ken" not in request.body
    assert json.loads(request.body)["data"]["subscription"]["url"] == receiver.url(f"/hook?token={MASK}&page=2")
    [message] = mail.outbox
    assert "s3cr3t-t0ken" not in message.body and "page=2" in message.body


def test_notification_tasks_go_to_their_own_queue():
    for task in (sending.SEND_TASK, "notifications.tasks.notifications_sweep"):
        assert app.amqp.router.route({}, task)["queue"].name == "outflow-notifications"
    assert app.amqp.router.route({}, "delivery.tasks.subscription_drain")["queue"].name == "outflow"

"""End to end: a real worker and beat pause a failing subscription and notify it: a signed webhook to a real
receiver (verified with standardwebhooks) and a mail to a real SMTP server on loopback; retries keep the webhook-id."""

import json
from datetime import timedelta
from urllib.parse import SplitResult, urlsplit

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from delivery.models import Delivery
from notifications.addresses import confirmation_token_read
from notifications.models import Notification, NotificationDigest
from notifications.services import notification_record
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event

pytestmark = pytest.mark.e2e


def _notify_to(api, receiver, **fields) -> str:
    body = {"webhook_url": receiver.url("/ops"), **fields}
    response = api.patch("/api/v1/notifications", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["secret"]


def _of_type(requests, type_: str) -> list:
    return [request for request in requests if json.loads(request.body)["type"] == type_]


def _confirmation_link(smtp_server, address: str, environment) -> SplitResult:
    """The link of this environment's confirmation mail to the address (the session's server keeps every test's)."""

    def link(message) -> str | None:
        if message["To"] != address or not message["Subject"].startswith("[Outflow] Confirm"):
            return None
        [line] = [line for line in message.get_payload().splitlines() if "/notifications/confirm#" in line]
        link = urlsplit(line.strip())
        claims = confirmation_token_read(link.fragment)
        return link if claims and claims["environment"] == str(environment.pk) else None

    return link(smtp_server.wait_for(link))


def _confirmed_by_its_owner(client, smtp_server, address: str, environment) -> None:
    """As the address's owner: the link of the confirmation mail, its page, its button."""
    link = _confirmation_link(smtp_server, address, environment)
    page = client.get(link.path)
    assert page.status_code == 200 and b'id="confirm"' in page.content
    assert client.post(link.path, {"token": link.fragment}).status_code == 200


def test_a_paused_subscription_is_notified_by_webhook_and_mail_and_its_resume_too(
    worker, api, client, receiver, smtp_server, environment
):
    secret = _notify_to(api, receiver, emails=["ops@example.com"])
    _confirmed_by_its_owner(client, smtp_server, "ops@example.com", environment)
    receiver.script("/hook", statuses=[500])
    subscription = subscribe(api, receiver, max_retries=2, auto_disable=True)

    ingest(api, event())

    [request] = receiver.wait_for(1, "/ops")
    notification = Webhook(secret).verify(request.body, request.headers)
    assert len(receiver.received("/hook")) == 3
    assert notification["type"] == "subscription.paused"
    assert notification["data"] == {
        "subscription": {"id": subscription["id"], "name": subscription["name"], "url": subscription["url"]},
        "reason": "retries exhausted after 3 attempts: endpoint answered 500",
    }
    assert api.get(f"/api/v1/subscriptions/{subscription['id']}").json()["status"] == "paused"
    mailed = smtp_server.wait_for(
        lambda message: subscription["id"] in message.get_payload() and "paused" in message["Subject"]
    )
    assert mailed["Subject"] == f"[Outflow] subscription.paused: {subscription['name']}"
    assert mailed["To"] == "ops@example.com"
    assert json.loads(mailed.get_payload()[mailed.get_payload().index("{") :]) == notification

    assert api.post(f"/api/v1/subscriptions/{subscription['id']}/resume").status_code == 200

    requests = receiver.wait_for(2, "/ops")
    [resumed] = _of_type(requests, "subscription.resumed")
    assert Webhook(secret).verify(resumed.body, resumed.headers)["data"]["subscription"]["id"] == subscription["id"]
    wait_until(lambda: Notification.objects.filter(status="sent").count() == 5)  # the confirmation and four more
    logs = [path.read_text() for path in worker.directory.glob("*.log")]
    assert not [log for log in logs if secret in log or secret.removeprefix("whsec_") in log]


def test_a_failing_notification_receiver_gets_it_again_with_the_same_webhook_id(worker, api, receiver):
    secret = _notify_to(api, receiver)
    receiver.script("/ops", statuses=[500, 503, 204])
    receiver.script("/hook", statuses=[500])
    subscribe(api, receiver, max_retries=0)

    ingest(api, event())

    requests = receiver.wait_for(3, "/ops")
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    assert len({request.headers["webhook-timestamp"] for request in requests}) >= 1
    for request in requests:
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "subscription.paused"
    wait_until(lambda: Notification.objects.get().status == Notification.Status.SENT)
    assert Notification.objects.get().attempts == 3


def test_delivery_failed_without_auto_disable_is_told_once_with_a_count(worker, api, receiver):
    secret = _notify_to(api, receiver)
    receiver.script("/hook", statuses=[500])
    subscribe(api, receiver, max_retries=0, auto_disable=False)

    ingest(api, event())
    [request] = receiver.wait_for(1, "/ops")
    ingest(api, event(), event())
    wait_until(lambda: Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 3)

    notification = Webhook(secret).verify(request.body, request.headers)
    assert notification["type"] == "delivery.failed" and notification["data"]["count"] == 1
    assert notification["data"]["error"] == "endpoint answered 500"
    wait_until(lambda: Notification.objects.get().status == Notification.Status.SENT)
    assert NotificationDigest.objects.get().unreported == 2, "the next two wait for the hour to pass"
    assert len(receiver.received("/ops")) == 1


def test_beat_sends_a_notification_whose_task_was_lost(worker, api, receiver, environment):
    secret = _notify_to(api, receiver)
    # As if written and committed, then the broker lost its task: queued, due long ago.
    lost = Notification.objects.create(
        environment=environment,
        channel=Notification.Channel.WEBHOOK,
        type="subscription.resumed",
        payload={"type": "subscription.resumed", "timestamp": "2026-12-01T10:00:00Z", "data": {}},
        next_attempt_at=timezone.now() - timedelta(minutes=1),
        queued=True,
    )

    [request] = receiver.wait_for(1, "/ops")

    assert request.headers["webhook-id"] == str(lost.pk)
    assert Webhook(secret).verify(request.body, request.headers) == lost.payload


def test_a_slow_notification_endpoint_holds_one_worker_thread_while_deliveries_go_on(
    worker, api, receiver, environment
):
    _notify_to(api, receiver)
    receiver.script("/ops", delay=1.5)
    with transaction.atomic():
        for _ in range(3):
            notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
    subscribe(api, receiver)

    ingest(api, *[event() for _ in range(20)])

    hooks = receiver.wait_for(20, "/hook")
    notifications = receiver.wait_for(3, "/ops")
    arrivals = [request.at for request in notifications]
    # One at a time: each waited for the one before it to be answered.
    assert all(later - earlier >= 1.4 for earlier, later in zip(arrivals, arrivals[1:], strict=False))
    assert max(request.at for request in hooks) < arrivals[-1]
    wait_until(lambda: Notification.objects.filter(status=Notification.Status.SENT).count() == 3)


def test_a_pause_resume_loop_through_the_api_mails_a_few_times_an_hour(
    worker, api, client, receiver, smtp_server, settings, environment
):
    assert settings.OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR == 3
    api.patch("/api/v1/notifications", {"emails": ["loop@example.com"]}, format="json")
    _confirmed_by_its_owner(client, smtp_server, "loop@example.com", environment)
    subscription = subscribe(api, receiver)

    for _ in range(8):
        assert api.post(f"/api/v1/subscriptions/{subscription['id']}/pause").status_code == 200
        assert api.post(f"/api/v1/subscriptions/{subscription['id']}/resume").status_code == 200

    def resumed_mails() -> list:
        return [
            message
            for message in smtp_server.messages()
            if message["To"] == "loop@example.com" and subscription["id"] in message.get_payload()
        ]

    wait_until(lambda: len(resumed_mails()) == 3)
    wait_until(lambda: not Notification.objects.filter(status=Notification.Status.PENDING).exists())
    assert len(resumed_mails()) == 3
    assert NotificationDigest.objects.get(type="subscription.resumed").unreported == 5


def test_deliveries_and_notifications_do_not_wait_on_each_other(worker, api, receiver, environment):
    _notify_to(api, receiver)
    subscription = subscribe(api, receiver)
    worker.kill_worker()
    try:
        # No worker takes deliveries: an endless backlog. The notifier sends the notification all the same.
        ingest(api, event())
        with transaction.atomic():
            notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
        receiver.wait_for(1, "/ops")
        assert receiver.received("/hook") == []
    finally:
        worker.start_worker()
    receiver.wait_for(1, "/hook")

    worker.kill_notifier()
    try:
        # No notifier: deliveries go all the same, and the notification waits on its queue.
        ingest(api, event())
        with transaction.atomic():
            notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
        receiver.wait_for(2, "/hook")
        assert len(receiver.received("/ops")) == 1
    finally:
        worker.start_notifier()
    receiver.wait_for(2, "/ops")
    assert Delivery.objects.filter(subscription_id=subscription["id"], status=Delivery.Status.SUCCEEDED).count() == 2

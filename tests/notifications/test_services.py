"""Notification settings and the events that write notification rows: paused, resumed, delivery.failed."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from notifications.models import Notification, NotificationDigest
from notifications.selectors import notification_settings_of
from notifications.services import notification_digests_flush, notification_settings_update
from subscriptions.models import Subscription
from subscriptions.services import subscription_create, subscription_pause, subscription_resume
from tests.factories import event
from tests.notifications.steps import settings_confirmed


def _notified(environment, **settings) -> None:
    settings_confirmed(environment, **settings)


def _failing_subscription(environment, receiver, **fields) -> Subscription:
    receiver.script("/hook", statuses=[500])
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"), **fields
    )


def _deliver_all(subscription: Subscription) -> None:
    subscription_drain(subscription_id=subscription.pk)


def test_settings_are_made_on_first_use_with_a_signing_secret(environment):
    first = notification_settings_of(environment=environment)
    again = notification_settings_of(environment=environment)

    assert first.pk == again.pk and first.secret == again.secret
    assert first.secret.startswith("whsec_") and len(first.secret) > 40
    assert first.webhook_url is None and first.emails == []


def test_the_secret_is_encrypted_at_rest(environment):
    from django.db import connection

    secret = notification_settings_of(environment=environment).secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_notificationsettings")
        [(stored,)] = cursor.fetchall()
    assert secret not in stored and "whsec_" not in stored


def test_settings_refuse_bad_urls_and_emails_and_keep_what_was_stored(environment, settings):
    _notified(environment, webhook_url="http://127.0.0.1:9/ops", emails=["ops@example.com"])
    settings.OUTFLOW_ALLOW_PRIVATE_TARGETS = False

    for url in ["http://127.0.0.1/hook", "ftp://example.com/x", "not a url", "http://10.0.0.1/"]:
        with pytest.raises(ValidationError) as refused:
            notification_settings_update(environment=environment, webhook_url=url)
        assert "webhook_url" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        notification_settings_update(environment=environment, emails=["ok@example.com", "nope", "a@b\n.com"])
    assert len(refused.value.message_dict["emails"]) == 2
    with pytest.raises(ValidationError):
        notification_settings_update(environment=environment, emails=[f"ops{n}@example.com" for n in range(11)])

    stored = notification_settings_of(environment=environment)
    assert stored.webhook_url == "http://127.0.0.1:9/ops" and stored.emails == ["ops@example.com"]


def test_emails_are_kept_once_and_an_empty_url_means_no_webhook(environment):
    updated = notification_settings_update(
        environment=environment, webhook_url="", emails=[" Ops@example.com", "ops@EXAMPLE.com", "b@example.com"]
    )
    assert updated.webhook_url is None and updated.emails == ["Ops@example.com", "b@example.com"]


def test_retries_exhausted_pause_writes_one_notification_per_channel(environment, receiver):
    _notified(environment, webhook_url=receiver.url("/ops"), emails=["ops@example.com"])
    subscription = _failing_subscription(environment, receiver, max_retries=0)
    events_ingest(environment=environment, raw_events=[event(), event()])

    _deliver_all(subscription)

    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAUSED
    notifications = Notification.objects.filter(environment=environment)
    assert sorted(notification.channel for notification in notifications) == ["email", "webhook"]
    webhook, mail = (notification.payload for notification in notifications.order_by("channel").reverse())
    assert webhook == mail
    payload = webhook
    assert payload["type"] == "subscription.paused"
    assert payload["data"] == {
        "subscription": {"id": str(subscription.pk), "name": "sink", "url": receiver.url("/hook")},
        "reason": "retries exhausted after 1 attempt: endpoint answered 500",
    }
    assert payload["timestamp"].endswith("Z") and len(payload["timestamp"]) == 20


def test_a_mapping_error_pause_is_notified(environment, receiver, settings):
    settings.OUTFLOW_MAPPING_ERRORS_TO_PAUSE = 1
    _notified(environment, webhook_url=receiver.url("/ops"))
    subscription = _failing_subscription(environment, receiver, mapping="throw new Error('bad shape');")
    events_ingest(environment=environment, raw_events=[event()])

    _deliver_all(subscription)

    [notification] = Notification.objects.all()
    assert notification.type == "subscription.paused"
    assert "bad shape" in notification.payload["data"]["reason"]


def test_nothing_is_written_without_a_channel_and_a_manual_pause_is_not_notified(environment, receiver):
    subscription = _failing_subscription(environment, receiver, max_retries=0)
    events_ingest(environment=environment, raw_events=[event()])
    _deliver_all(subscription)
    _notified(environment, webhook_url=receiver.url("/ops"))
    subscription_resume(subscription=subscription)
    subscription_pause(subscription=subscription, reason="by hand")

    assert [notification.type for notification in Notification.objects.all()] == ["subscription.resumed"]


def test_resume_is_notified_only_when_it_was_paused(environment, receiver):
    _notified(environment, emails=["ops@example.com"])
    subscription = _failing_subscription(environment, receiver)
    subscription_resume(subscription=subscription)
    assert not Notification.objects.exists()

    subscription_pause(subscription=subscription, reason="by hand")
    subscription_resume(subscription=subscription)

    [notification] = Notification.objects.all()
    assert notification.channel == "email" and notification.payload["type"] == "subscription.resumed"
    assert notification.payload["data"] == {
        "subscription": {"id": str(subscription.pk), "name": "sink", "url": receiver.url("/hook")}
    }
    assert subscription.status == Subscription.Status.ACTIVE and subscription.paused_reason == ""


def test_delivery_failed_is_told_at_most_once_an_hour_with_the_count(environment, receiver):
    _notified(environment, webhook_url=receiver.url("/ops"))
    subscription = _failing_subscription(environment, receiver, max_retries=0, auto_disable=False)

    events_ingest(environment=environment, raw_events=[event(), event()])
    _deliver_all(subscription)
    events_ingest(environment=environment, raw_events=[event(), event(), event()])
    _deliver_all(subscription)

    [first] = Notification.objects.all()
    assert first.type == "delivery.failed"
    assert first.payload["data"]["count"] == 2 and first.payload["data"]["error"] == "endpoint answered 500"
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert NotificationDigest.objects.get(subscription=subscription, type="delivery.failed").unreported == 3
    assert notification_digests_flush() == 0

    NotificationDigest.objects.update(window_started_at=timezone.now() - timedelta(hours=1, seconds=1))
    assert notification_digests_flush() == 1

    second = Notification.objects.exclude(pk=first.pk).get()
    assert second.payload["data"]["count"] == 3
    assert NotificationDigest.objects.get(subscription=subscription, type="delivery.failed").unreported == 0
    assert notification_digests_flush() == 0


def test_a_failure_after_a_quiet_hour_is_told_at_once(environment, receiver):
    _notified(environment, webhook_url=receiver.url("/ops"))
    subscription = _failing_subscription(environment, receiver, max_retries=0, auto_disable=False)
    events_ingest(environment=environment, raw_events=[event()])
    _deliver_all(subscription)
    NotificationDigest.objects.update(window_started_at=timezone.now() - timedelta(hours=2))

    events_ingest(environment=environment, raw_events=[event()])
    _deliver_all(subscription)

    assert [n.payload["data"]["count"] for n in Notification.objects.order_by("created_at")] == [1, 1]


def test_a_pause_resume_loop_is_told_a_few_times_an_hour_then_once_with_the_count(environment, receiver, settings):
    settings.OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR = 2
    _notified(environment, webhook_url=receiver.url("/ops"))
    subscription = _failing_subscription(environment, receiver)
    for _ in range(5):
        subscription_pause(subscription=subscription, reason="by hand")
        subscription_resume(subscription=subscription)

    def told():
        return Notification.objects.filter(type="subscription.resumed").order_by("created_at")

    assert told().count() == 2 and all("count" not in n.payload["data"] for n in told())
    digest = NotificationDigest.objects.get(subscription=subscription, type="subscription.resumed")
    assert digest.unreported == 3
    assert notification_digests_flush() == 0, "within the hour"

    NotificationDigest.objects.update(window_started_at=timezone.now() - timedelta(hours=1, seconds=1))
    assert notification_digests_flush() == 1
    coalesced = told().last()
    assert coalesced.payload["data"] == {
        "subscription": {"id": str(subscription.pk), "name": "sink", "url": receiver.url("/hook")},
        "count": 3,
    }
    # The flush started a new hour with one told: one more goes at once, then they are counted again.
    subscription_pause(subscription=subscription, reason="by hand")
    subscription_resume(subscription=subscription)
    subscription_pause(subscription=subscription, reason="by hand")
    subscription_resume(subscription=subscription)
    assert told().count() == 4 and NotificationDigest.objects.get(pk=digest.pk).unreported == 1


def test_worker_pauses_are_limited_per_subscription_too(environment, receiver, settings):
    settings.OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR = 1
    _notified(environment, webhook_url=receiver.url("/ops"))
    subscription = _failing_subscription(environment, receiver, max_retries=0)
    for _ in range(3):
        events_ingest(environment=environment, raw_events=[event()])
        _deliver_all(subscription)
        Delivery.objects.all().delete()
        subscription_resume(subscription=subscription)

    assert Notification.objects.filter(type="subscription.paused").count() == 1
    digest = NotificationDigest.objects.get(subscription=subscription, type="subscription.paused")
    assert digest.unreported == 2 and "retries exhausted" in digest.last_data["reason"]
    NotificationDigest.objects.update(window_started_at=timezone.now() - timedelta(hours=2))
    notification_digests_flush()
    last = Notification.objects.filter(type="subscription.paused").order_by("-created_at").first()
    assert last.payload["data"]["count"] == 2 and "retries exhausted" in last.payload["data"]["reason"]

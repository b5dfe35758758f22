"""Beat's safety net for notifications: lost tasks and lost workers are made up for; retention removes old rows."""

from datetime import timedelta

from django.utils import timezone

from delivery.retention import expired_purge
from notifications import sweeper
from notifications.models import Notification
from notifications.sending import notification_claim
from notifications.services import notification_record, notification_settings_update


def _recorded(environment, receiver) -> Notification:
    notification_settings_update(environment=environment, webhook_url=receiver.url("/ops"))
    [notification] = notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
    return notification


def _enqueued(monkeypatch) -> list:
    sent: list = []
    monkeypatch.setattr(sweeper, "notifications_enqueue", lambda *, notification_ids: sent.extend(notification_ids))
    return sent


def _past_grace(settings) -> object:
    return timezone.now() - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS + 1)


def test_a_notification_whose_task_was_lost_is_sent_again_after_the_grace(
    environment, receiver, monkeypatch, settings, django_capture_on_commit_callbacks
):
    sent = _enqueued(monkeypatch)
    notification = _recorded(environment, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.notifications_due_enqueue() == 0, "its task is on its way"

    Notification.objects.update(next_attempt_at=_past_grace(settings))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.notifications_due_enqueue() == 1
    assert sent == [notification.pk]


def test_a_notification_left_waiting_is_sent_once_due(
    environment, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    sent = _enqueued(monkeypatch)
    notification = _recorded(environment, receiver)
    Notification.objects.update(queued=False, next_attempt_at=timezone.now() + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.notifications_due_enqueue() == 0

    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.notifications_due_enqueue() == 1
    assert sent == [notification.pk]
    assert Notification.objects.get().queued is True


def test_a_claim_whose_worker_stopped_is_taken_back_when_its_lease_runs_out(
    environment, receiver, monkeypatch, settings, django_capture_on_commit_callbacks
):
    sent = _enqueued(monkeypatch)
    notification = _recorded(environment, receiver)
    assert notification_claim(notification_id=notification.pk) is not None
    Notification.objects.update(queued=True, next_attempt_at=_past_grace(settings))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.notifications_due_enqueue() == 0, "its worker is still within its lease"

    Notification.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.notifications_due_enqueue() == 1
    assert sent == [notification.pk]
    assert notification_claim(notification_id=notification.pk).attempts == 2


def test_retention_removes_notifications_past_the_event_retention(environment, receiver, settings):
    old, recent = _recorded(environment, receiver), _recorded(environment, receiver)
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.OUTFLOW_EVENT_RETENTION_DAYS, minutes=1)
    )

    assert expired_purge().notifications == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [recent.pk]

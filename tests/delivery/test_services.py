"""Delivery services called directly against a real receiver: claim, outcome, Retry-After, the sweeper."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.services import deliveries_sweep, delivery_attempt, delivery_claim
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from subscriptions.services import subscription_create, subscription_pause
from tests.factories import event


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )


@pytest.fixture
def delivery(environment, subscription) -> Delivery:
    events_ingest(environment=environment, raw_events=[event()])
    return Delivery.objects.get()


def test_a_claim_is_won_once(delivery):
    assert delivery_claim(delivery_id=delivery.pk) is not None
    assert delivery_claim(delivery_id=delivery.pk) is None
    claimed = Delivery.objects.get()
    assert claimed.status == Delivery.Status.SENDING and claimed.attempts == 1 and claimed.lease_expires_at


def test_an_attempt_that_succeeds_is_logged(delivery, receiver):
    delivery_attempt(delivery_id=delivery.pk)
    done = Delivery.objects.get()
    assert done.status == Delivery.Status.SUCCEEDED and done.last_status_code == 204 and done.completed_at
    log = RequestLog.objects.get()
    assert (log.attempt, log.response_status, log.delivery_id) == (1, 204, delivery.pk)
    assert log.request_headers["webhook-signature"] == "********"
    assert len(receiver.received("/hook")) == 1


def test_a_stale_task_does_nothing(delivery, receiver):
    delivery_attempt(delivery_id=delivery.pk)
    delivery_attempt(delivery_id=delivery.pk)
    assert len(receiver.received("/hook")) == 1 and RequestLog.objects.count() == 1


def test_a_task_that_fires_before_the_retry_is_due_does_nothing(delivery, receiver):
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    delivery_attempt(delivery_id=delivery.pk)
    assert receiver.received() == [] and Delivery.objects.get().attempts == 0


def test_retry_after_longer_than_the_backoff_is_honoured(delivery, receiver):
    receiver.script("/hook", statuses=[429], headers={"Retry-After": "40"})
    delivery_attempt(delivery_id=delivery.pk)
    retrying = Delivery.objects.get()
    assert retrying.status == Delivery.Status.RETRYING and retrying.last_status_code == 429
    wait = (retrying.next_attempt_at - timezone.now()).total_seconds()
    assert 38 <= wait <= 40
    assert retrying.queued is True


def test_retry_after_is_read_whatever_its_case(delivery, receiver):
    receiver.script("/hook", statuses=[503], headers={"retry-after": "40"})
    delivery_attempt(delivery_id=delivery.pk)
    wait = (Delivery.objects.get().next_attempt_at - timezone.now()).total_seconds()
    assert 38 <= wait <= 40


def test_a_long_wait_is_a_row_for_the_sweeper_not_a_broker_task(delivery, receiver):
    receiver.script("/hook", statuses=[503], headers={"Retry-After": "3600"})
    delivery_attempt(delivery_id=delivery.pk)
    retrying = Delivery.objects.get()
    assert retrying.queued is False
    assert deliveries_sweep() == {"leases_recovered": 0, "enqueued": 0}

    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliveries_sweep()["enqueued"] == 1
    assert Delivery.objects.get().queued is True


def test_sweeper_takes_back_an_expired_claim_as_a_failed_attempt(delivery):
    delivery_claim(delivery_id=delivery.pk)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert deliveries_sweep()["leases_recovered"] == 1

    recovered = Delivery.objects.get()
    assert recovered.status == Delivery.Status.RETRYING and recovered.attempts == 1
    assert "worker stopped" in recovered.last_error
    assert "worker stopped" in RequestLog.objects.get().error


def test_sweeper_requeues_a_queued_delivery_never_picked_up(delivery, settings):
    Delivery.objects.update(
        next_attempt_at=timezone.now() - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS + 1)
    )
    assert deliveries_sweep()["enqueued"] == 1
    assert deliveries_sweep()["enqueued"] == 0


def test_a_delivery_for_a_paused_subscription_is_skipped_at_its_attempt(delivery, subscription, receiver):
    subscription_pause(subscription=subscription, reason="test")
    delivery_attempt(delivery_id=delivery.pk)
    skipped = Delivery.objects.get()
    assert skipped.status == Delivery.Status.SKIPPED and skipped.attempts == 0
    assert receiver.received() == []


def test_final_failure_pauses_once_with_the_reason(delivery, subscription, receiver):
    Subscription.objects.update(max_retries=0)
    receiver.script("/hook", statuses=[410])
    delivery_attempt(delivery_id=delivery.pk)
    paused = Subscription.objects.get()
    assert paused.status == Subscription.Status.PAUSED
    assert paused.paused_reason == "retries exhausted after 1 attempt: endpoint answered 410"

"""The sweeper: expired claims taken back, due deliveries woken oldest first within its budget, tasks sent round."""

from datetime import timedelta

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from delivery import queueing
from delivery.attempts import deliveries_claim
from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.queueing import deliveries_enqueue
from delivery.sweeper import deliveries_sweep
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.factories import event


@pytest.fixture
def due(environment, receiver):
    subscription_create(environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/h"))
    events_ingest(environment=environment, raw_events=[event() for _ in range(7)])
    deliveries = list(Delivery.objects.order_by("pk"))
    for age, delivery in enumerate(deliveries):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.RETRYING, queued=False, next_attempt_at=Now() - timedelta(minutes=10 + age)
        )
    return deliveries


def test_the_oldest_due_go_first(due, settings):
    settings.OUTFLOW_SWEEP_BATCH = 2
    settings.OUTFLOW_SWEEP_INTERVAL_SECONDS = 0  # no time for a second batch

    assert deliveries_sweep()["enqueued"] == 2

    oldest = {delivery.pk for delivery in due[-2:]}
    assert set(Delivery.objects.filter(queued=True).values_list("pk", flat=True)) == oldest


def test_one_sweep_goes_on_batch_after_batch_within_its_budget(due, settings):
    settings.OUTFLOW_SWEEP_BATCH = 2

    assert deliveries_sweep()["enqueued"] == 7
    assert not Delivery.objects.filter(queued=False).exists()


def test_tasks_go_round_the_subscriptions_a_batch_each(settings, monkeypatch):
    settings.OUTFLOW_DELIVERY_BATCH = 2
    sent: list[tuple] = []
    monkeypatch.setattr(queueing.app, "send_task", lambda name, args, **options: sent.append(args))

    deliveries_enqueue(due=[("a", 1), ("a", 2), ("a", 3), ("a", 4), ("a", 5), ("b", 6)])

    assert sent == [("a", ["1", "2"]), ("b", ["6"]), ("a", ["3", "4"]), ("a", ["5"])]


def test_sweeper_takes_back_an_expired_claim_due_now(delivery):
    deliveries_claim(subscription=delivery.subscription, delivery_ids=[delivery.pk])
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert deliveries_sweep()["leases_recovered"] == 1

    recovered = Delivery.objects.get()
    assert recovered.status == Delivery.Status.RETRYING and recovered.attempts == 1
    assert recovered.next_attempt_at <= timezone.now() and recovered.queued
    assert "worker stopped" in recovered.last_error
    assert "worker stopped" in RequestLog.objects.get().error


def test_an_expired_claim_with_no_retries_left_fails(delivery):
    Subscription.objects.update(max_retries=0, auto_disable=False)
    deliveries_claim(subscription=delivery.subscription, delivery_ids=[delivery.pk])
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    deliveries_sweep()
    assert Delivery.objects.get().status == Delivery.Status.FAILED


def test_sweeper_requeues_a_queued_delivery_never_picked_up(delivery, settings):
    Delivery.objects.update(
        next_attempt_at=timezone.now() - timedelta(seconds=settings.OUTFLOW_REQUEUE_GRACE_SECONDS + 1)
    )
    assert deliveries_sweep()["enqueued"] == 1
    assert deliveries_sweep()["enqueued"] == 0

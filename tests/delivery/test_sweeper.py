"""The sweeper: claims whose lease ran out, subscriptions with due deliveries and no drain, one sweeper at a time."""

import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone

from delivery import sweeper
from delivery.coordination import coordination
from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.sweeper import deliveries_sweep
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.delivery.steps import claim
from tests.factories import event


@pytest.fixture
def two_due(environment, receiver) -> list:
    subscriptions = [
        subscription_create(environment=environment, name=name, event_types=["card-completed"], url=receiver.url("/h"))
        for name in ("one", "two")
    ]
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=Now() - timedelta(minutes=10))
    for subscription in subscriptions:
        coordination().wake_clear(subscription_id=subscription.pk)
    return subscriptions


def test_each_subscription_with_due_deliveries_is_woken_once(two_due, published):
    assert deliveries_sweep()["woken"] == 2
    assert sorted(published.subscription_ids()) == sorted(subscription.pk for subscription in two_due)
    # A wake on its way is not sent again before the grace: the sweep after finds it pending.
    assert deliveries_sweep()["woken"] == 0


def test_a_wake_lost_on_its_way_is_sent_again_after_the_grace(two_due, published, settings):
    settings.OUTFLOW_REQUEUE_GRACE_SECONDS = 0.2
    deliveries_sweep()
    published.clear()
    time.sleep(0.5)
    assert deliveries_sweep()["woken"] == 2


def test_a_subscription_whose_drains_fill_its_slots_or_whose_endpoint_rests_is_left_alone(two_due, published, settings):
    running, resting = two_due
    for _ in range(settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION):
        coordination().slot_take(subscription_id=running.pk, slots=4, seconds=30)
    coordination().circuit_trip(subscription_id=resting.pk, until=timezone.now() + timedelta(minutes=1))
    assert deliveries_sweep()["woken"] == 0 and published == []


def test_a_subscription_with_a_free_slot_is_woken_though_a_drain_runs(two_due, published):
    running, _ = two_due
    coordination().slot_take(subscription_id=running.pk, slots=4, seconds=30)
    assert deliveries_sweep()["woken"] == 2


def test_deliveries_not_yet_due_wake_nothing(two_due, published):
    Delivery.objects.update(next_attempt_at=Now() + timedelta(minutes=5))
    assert deliveries_sweep()["woken"] == 0


def test_sweeper_takes_back_an_expired_claim_due_now(delivery, published):
    claim(delivery.subscription)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert deliveries_sweep()["leases_recovered"] == 1

    recovered = Delivery.objects.get()
    assert recovered.status == Delivery.Status.RETRYING and recovered.attempts == 1
    assert recovered.next_attempt_at <= timezone.now()
    assert "worker stopped" in recovered.last_error
    assert "worker stopped" in RequestLog.objects.get().error
    assert published.subscription_ids() == [delivery.subscription_id]


def test_an_expired_claim_with_no_retries_left_fails(delivery, published):
    Subscription.objects.update(max_retries=0, auto_disable=False)
    claim(delivery.subscription)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    deliveries_sweep()
    assert Delivery.objects.get().status == Delivery.Status.FAILED


def test_a_second_sweeper_sweeps_nothing_while_one_sweeps(two_due, published):
    settings_dict = connection.settings_dict
    other = psycopg.connect(
        host=settings_dict["HOST"], port=settings_dict["PORT"], user=settings_dict["USER"], dbname=settings_dict["NAME"]
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [sweeper._LOCK_KEY])
        assert deliveries_sweep() is None and published == []
        other.execute("SELECT pg_advisory_unlock(%s)", [sweeper._LOCK_KEY])
        assert deliveries_sweep()["woken"] == 2
    finally:
        other.close()


def test_an_ordered_subscription_whose_oldest_delivery_waits_its_back_off_is_not_woken(
    environment, receiver, published
):
    ordered = subscription_create(
        environment=environment, name="fifo", event_types=["card-completed"], url=receiver.url("/h"), ordered=True
    )
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    coordination().wake_clear(subscription_id=ordered.pk)
    head = Delivery.objects.order_by("created_at").first()
    # The rows behind it are due, but go only after it.
    Delivery.objects.filter(pk=head.pk).update(status=Delivery.Status.RETRYING, next_attempt_at=Now() + timedelta(1))
    assert deliveries_sweep()["woken"] == 0

    Delivery.objects.filter(pk=head.pk).update(next_attempt_at=Now())
    assert deliveries_sweep()["woken"] == 1 and published.subscription_ids() == [ordered.pk]

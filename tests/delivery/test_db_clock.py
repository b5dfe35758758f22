"""Leases and due times come from the database's clock: a worker or beat whose own clock is off changes nothing."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone

from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.leases import lease_seconds
from delivery.models import Delivery
from delivery.sweeper import deliveries_sweep
from subscriptions.services import subscription_create
from tests.delivery.steps import claim
from tests.factories import event

# Far enough that an answer read from the process's clock could not pass for the database's.
SKEW = timedelta(hours=1)


@pytest.fixture
def delivery(environment, receiver) -> Delivery:
    subscription_create(environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"))
    events_ingest(environment=environment, raw_events=[event()])
    return Delivery.objects.select_related("subscription").get()


def _database_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0]


def _process_clock(offset: timedelta):
    """This process's clock, set off from the database's (only to show the code no longer reads it)."""
    real = timezone.now
    return mock.patch("django.utils.timezone.now", lambda: real() + offset)


@pytest.mark.parametrize("offset", [SKEW, -SKEW])
def test_a_claims_lease_is_the_databases_time_plus_the_lease(delivery, offset):
    before = _database_now()
    with _process_clock(offset):
        [claimed] = claim(delivery.subscription)
    after = _database_now()
    lease = timedelta(seconds=lease_seconds(subscription=delivery.subscription))
    assert before + lease <= claimed.lease_expires_at <= after + lease
    assert Delivery.objects.get().lease_expires_at == claimed.lease_expires_at


def test_a_worker_whose_clock_is_behind_still_claims_a_due_delivery(delivery):
    with _process_clock(-SKEW):
        assert len(claim(delivery.subscription)) == 1


def test_a_worker_whose_clock_is_ahead_does_not_claim_a_delivery_not_yet_due(delivery):
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=Now() + timedelta(minutes=5))
    with _process_clock(SKEW):
        assert claim(delivery.subscription) == []


@pytest.mark.parametrize("offset", [SKEW, -SKEW])
def test_a_retrys_next_attempt_is_the_databases_time_plus_the_backoff(delivery, receiver, offset, settings):
    receiver.script("/hook", statuses=[500])
    before = _database_now()
    with _process_clock(offset):
        subscription_drain(subscription_id=delivery.subscription_id)
    after = _database_now()
    retrying = Delivery.objects.get()
    assert retrying.status == Delivery.Status.RETRYING
    # The first retry waits the base delay, give or take the jitter.
    base = timedelta(seconds=settings.OUTFLOW_RETRY_BASE_SECONDS)
    assert before + base * 0.8 <= retrying.next_attempt_at <= after + base * 1.2


def test_a_claim_handed_back_unattempted_is_due_at_the_databases_now(environment, receiver):
    slow = subscription_create(
        environment=environment, name="slow", event_types=["card-completed"], url=receiver.url("/slow")
    )
    receiver.script("/slow", statuses=[200], delay=0.1)
    events_ingest(environment=environment, raw_events=[event(), event()])
    with _process_clock(SKEW), mock.patch("delivery.attempts.batch_seconds", return_value=0.0):
        subscription_drain(subscription_id=slow.pk)
    handed_back = Delivery.objects.get(status=Delivery.Status.PENDING)
    assert handed_back.next_attempt_at <= _database_now()


def test_the_sweeper_takes_back_a_lease_the_databases_clock_says_ran_out(delivery):
    claim(delivery.subscription)
    Delivery.objects.update(lease_expires_at=Now() - timedelta(seconds=1))
    with _process_clock(-SKEW):
        assert deliveries_sweep()["leases_recovered"] == 1


def test_the_sweeper_leaves_a_lease_the_databases_clock_says_still_stands(delivery):
    claim(delivery.subscription)
    with _process_clock(SKEW):
        assert deliveries_sweep()["leases_recovered"] == 0
    assert Delivery.objects.get().status == Delivery.Status.SENDING


def test_the_sweeper_finds_due_rows_by_the_databases_clock(delivery):
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=Now() - timedelta(seconds=1))
    with _process_clock(-SKEW):
        assert deliveries_sweep()["woken"] == 1


def test_the_sweeper_leaves_rows_the_databases_clock_says_are_not_due(delivery):
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=Now() + timedelta(minutes=5))
    with _process_clock(SKEW):
        assert deliveries_sweep()["woken"] == 0


def test_ingest_on_a_web_host_whose_clock_runs_ahead_makes_deliveries_due_by_the_databases(environment, receiver):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )
    before = _database_now()
    with _process_clock(SKEW):
        events_ingest(environment=environment, raw_events=[event()])
    created = Delivery.objects.get()
    assert before <= created.next_attempt_at <= _database_now()
    assert claim(subscription)

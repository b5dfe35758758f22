"""A batch's lease: checked before each send, renewed with its slot when it runs short, never sent past."""

import json
import time
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.db.models.functions import Now

from credentials.services import credential_create
from delivery import outgoing
from delivery.coordination import coordination
from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.leases import BatchLease, batch_lease_hold, lease_seconds, slot_seconds
from delivery.models import Delivery
from delivery.sweeper import deliveries_sweep
from subscriptions.services import subscription_create
from tests import secrets
from tests.delivery.steps import claim
from tests.factories import event


@pytest.fixture
def short_leases(settings):
    """Leases of about two seconds: a request timeout of one second and a small margin."""
    settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS = 1.0
    settings.OUTFLOW_LEASE_MARGIN_SECONDS = 0.2


def _subscription(environment, receiver, **fields):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"), **fields
    )


def _database_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0]


def _claimed_batch(environment, subscription, count: int = 1):
    events_ingest(environment=environment, raw_events=[event() for _ in range(count)])
    return claim(subscription)


@pytest.fixture
def slot(environment):
    taken = coordination().slot_take(subscription_id="leases", slots=1, seconds=1)
    yield taken
    coordination().slot_free(slot=taken)


def _slot_ttl(slot) -> int:
    return caches["default"].raw_client().ttl(cache.make_key(f"outflow:slot:{{{slot.subscription_id}}}:{slot.index}"))


def test_a_lease_with_time_left_is_checked_without_a_query(environment, receiver, slot, django_assert_num_queries):
    subscription = _subscription(environment, receiver)
    deliveries = _claimed_batch(environment, subscription)
    lease = BatchLease(slot=slot, runs_out=time.monotonic() + lease_seconds(subscription=subscription))
    with django_assert_num_queries(0):
        assert batch_lease_hold(lease=lease, subscription=subscription, deliveries=deliveries)


def test_a_lease_running_short_is_renewed_by_the_databases_clock_with_its_slot(environment, receiver, slot):
    subscription = _subscription(environment, receiver)
    deliveries = _claimed_batch(environment, subscription, count=2)
    lease = BatchLease(slot=slot, runs_out=time.monotonic() + 0.5)
    before = _database_now()

    assert batch_lease_hold(lease=lease, subscription=subscription, deliveries=deliveries)

    seconds = lease_seconds(subscription=subscription)
    assert lease.runs_out >= time.monotonic() + seconds - 1
    stored = dict(Delivery.objects.values_list("pk", "lease_expires_at"))
    for delivery in deliveries:
        assert stored[delivery.pk] == delivery.lease_expires_at
        assert (
            before + timedelta(seconds=seconds)
            <= delivery.lease_expires_at
            <= _database_now() + timedelta(seconds=seconds)
        )
    assert _slot_ttl(slot) >= int(slot_seconds())


def test_a_lease_the_database_says_ran_out_is_not_renewed(environment, receiver, slot):
    subscription = _subscription(environment, receiver)
    deliveries = _claimed_batch(environment, subscription)
    Delivery.objects.update(lease_expires_at=Now() - timedelta(seconds=1))
    expired = Delivery.objects.get().lease_expires_at
    deliveries[0].lease_expires_at = expired

    assert not batch_lease_hold(
        lease=BatchLease(slot=slot, runs_out=0), subscription=subscription, deliveries=deliveries
    )
    assert Delivery.objects.get().lease_expires_at == expired


def test_a_claim_taken_back_and_claimed_again_is_not_renewed_by_its_first_holder(environment, receiver, slot):
    subscription = _subscription(environment, receiver)
    [first] = _claimed_batch(environment, subscription)
    Delivery.objects.update(lease_expires_at=Now() - timedelta(seconds=1))
    assert deliveries_sweep()["leases_recovered"] == 1
    [second] = claim(subscription)

    assert not batch_lease_hold(lease=BatchLease(slot=slot, runs_out=0), subscription=subscription, deliveries=[first])
    assert Delivery.objects.get().lease_expires_at == second.lease_expires_at


class _SendWatch:
    """Wraps the endpoint request: at each send, how long the delivery's lease has left by the database's clock,
    and whether the sweeper run at that moment would take the claim back."""

    def __init__(self, monkeypatch):
        self.left: list[float] = []
        self.recovered = 0
        real = outgoing.send

        def send(**request):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT lease_expires_at - statement_timestamp() FROM {Delivery._meta.db_table} WHERE id = %s",
                    [request["headers"]["webhook-id"]],
                )
                self.left.append(cursor.fetchone()[0].total_seconds())
            self.recovered += deliveries_sweep()["leases_recovered"]
            return real(**request)

        monkeypatch.setattr(outgoing, "send", send)


def test_a_batch_whose_lease_runs_short_before_a_send_renews_it_and_sends_within_it(
    environment, receiver, short_leases, monkeypatch, settings
):
    subscription = _subscription(environment, receiver)
    events_ingest(environment=environment, raw_events=[event()])
    real_bodies = outgoing.outgoing_bodies

    def slow_body(**shaping):
        # As a batch whose payloads take long to map before its sends.
        time.sleep(lease_seconds(subscription=subscription) - settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS)
        return real_bodies(**shaping)

    monkeypatch.setattr("delivery.attempts.outgoing_bodies", slow_body)
    watch = _SendWatch(monkeypatch)

    [delivery] = Delivery.objects.all()
    subscription_drain(subscription_id=subscription.pk)

    assert watch.recovered == 0
    assert watch.left[0] >= settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS
    sent = Delivery.objects.get()
    assert sent.status == Delivery.Status.SUCCEEDED and sent.attempts == 1
    assert len(receiver.received("/hook")) == 1


def test_a_batch_that_lost_its_claim_before_a_send_sends_nothing_more(
    environment, receiver, short_leases, monkeypatch, settings
):
    subscription = _subscription(environment, receiver)
    events_ingest(environment=environment, raw_events=[event()])
    real_bodies = outgoing.outgoing_bodies

    def stalled_body(**shaping):
        # The worker stalls until its lease runs short; meanwhile its lease ran out and the sweeper took it back.
        time.sleep(lease_seconds(subscription=subscription) - settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS)
        Delivery.objects.update(lease_expires_at=Now() - timedelta(seconds=1))
        assert deliveries_sweep()["leases_recovered"] == 1
        return real_bodies(**shaping)

    monkeypatch.setattr("delivery.attempts.outgoing_bodies", stalled_body)
    subscription_drain(subscription_id=subscription.pk)

    assert receiver.received("/hook") == []
    recovered = Delivery.objects.get()
    assert recovered.status == Delivery.Status.RETRYING and "worker stopped" in recovered.last_error


def test_an_oauth_fetch_waiting_on_another_workers_lock_does_not_outlive_the_lease(
    environment, receiver, short_leases, monkeypatch, settings
):
    token = {"access_token": secrets.ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}
    receiver.script("/token", statuses=[200], body=json.dumps(token).encode())
    credential = credential_create(
        environment=environment,
        name="oauth",
        type="oauth_client_credentials",
        values={"token_url": receiver.url("/token"), "client_id": "client-1", "client_secret": secrets.CLIENT_SECRET},
    )
    subscription = _subscription(environment, receiver, credential=credential.pk)
    events_ingest(environment=environment, raw_events=[event()])
    # Another worker holds the token fetch's lock for longer than a batch's time budget without a credential.
    held = 2 * settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS + settings.OUTFLOW_LEASE_MARGIN_SECONDS + 1
    cache.set(f"outflow:oauth-token:{credential.pk}:{credential.updated_at.timestamp()}:lock", "other", timeout=held)
    watch = _SendWatch(monkeypatch)

    started = time.monotonic()
    subscription_drain(subscription_id=subscription.pk)

    assert time.monotonic() - started >= held - 1
    assert watch.recovered == 0 and watch.left[0] > 0
    assert receiver.received("/hook")[0].headers["authorization"] == f"Bearer {secrets.ACCESS_TOKEN}"
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED

"""The drain, called directly against a real receiver and real Redis: its slot, its time slice, its successor, wakes
that come in while it runs, ordered subscriptions, and a subscription deleted while it records."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delivery.claims import Claim, deliveries_claim
from delivery.coordination import coordination
from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from subscriptions.services import subscription_create, subscription_delete
from tests.factories import event


def _subscription(environment, receiver, path="/hook", **fields) -> Subscription:
    return subscription_create(
        environment=environment, name=path, event_types=["card-completed"], url=receiver.url(path), **fields
    )


def _drain_in_a_thread(subscription_id) -> threading.Thread:
    def drain() -> None:
        try:
            subscription_drain(subscription_id=subscription_id)
        finally:
            connection.close()

    thread = threading.Thread(target=drain)
    thread.start()
    return thread


def _ingest(environment, count: int) -> None:
    events_ingest(environment=environment, raw_events=[event() for _ in range(count)])


def test_a_drain_sends_every_due_delivery_of_its_subscription_in_batches(environment, receiver, published, settings):
    settings.OUTFLOW_DELIVERY_BATCH = 3
    subscription = _subscription(environment, receiver)
    _ingest(environment, 8)

    end = subscription_drain(subscription_id=subscription.pk)

    assert end.more is False and end.deferral is None
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    assert len(receiver.received("/hook")) == 8


def test_a_drain_whose_slice_is_spent_publishes_its_successor_after_freeing_its_slot(
    environment, receiver, published, settings
):
    settings.OUTFLOW_DELIVERY_BATCH = 2
    settings.OUTFLOW_DRAIN_SLICE_SECONDS = 0
    subscription = _subscription(environment, receiver)
    _ingest(environment, 5)
    published.clear()

    end = subscription_drain(subscription_id=subscription.pk)

    assert end.more is True
    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 2
    # The successor goes to the back of the queue; the slot is free for it.
    assert ([subscription.pk], None) in published
    assert coordination().keys_of(subscription_ids=[subscription.pk])[subscription.pk].slots_held == 0


def test_a_drain_finds_no_free_slot_and_leaves_the_subscription_to_the_drains_running(
    environment, receiver, published, settings
):
    subscription = _subscription(environment, receiver)
    _ingest(environment, 2)
    for _ in range(settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION):
        coordination().slot_take(subscription_id=subscription.pk, slots=4, seconds=30)

    assert subscription_drain(subscription_id=subscription.pk) is None
    assert receiver.received() == [] and Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2


def test_a_wake_that_lands_while_the_drain_runs_is_not_lost(
    transactional_db, environment, receiver, published, settings
):
    """A wake whose task ran while every slot was taken: the drain that frees its slot publishes again."""
    settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION = 1
    subscription = _subscription(environment, receiver)
    _ingest(environment, 1)
    receiver.script("/hook", statuses=[204], delay=0.5)
    published.clear()

    running = _drain_in_a_thread(subscription.pk)
    receiver.wait_for(1, "/hook")
    # Rows come in and their wake's drain finds the slot taken.
    _ingest(environment, 1)
    assert subscription_drain(subscription_id=subscription.pk) is None
    running.join()

    assert published[-1] == ([subscription.pk], None)
    subscription_drain(subscription_id=subscription.pk)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}


def test_a_wake_that_found_the_slot_held_is_passed_on_however_long_the_holder_sends(
    transactional_db, environment, receiver, published, settings
):
    """A drain holds its slot for as long as its batch sends (up to 2 x OUTFLOW_REQUEST_TIMEOUT_SECONDS and a margin),
    which may be longer than OUTFLOW_REQUEUE_GRACE_SECONDS (the tests' 3 s, or an operator's short grace): the mark a
    wake leaves on finding every slot held must last until the holder frees it, or the rows wait for the sweeper."""
    settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION = 1
    settings.OUTFLOW_REQUEUE_GRACE_SECONDS = 0.2
    subscription = _subscription(environment, receiver)
    _ingest(environment, 1)
    receiver.script("/hook", statuses=[204], delay=0.8)

    running = _drain_in_a_thread(subscription.pk)
    receiver.wait_for(1, "/hook")
    # Rows come in and their wake's drain finds the slot taken, for longer than the grace.
    _ingest(environment, 1)
    assert subscription_drain(subscription_id=subscription.pk) is None
    published.clear()
    running.join()

    assert published == [([subscription.pk], None)]


@pytest.mark.parametrize(("due", "invited"), [(5, True), (2, False)])
def test_a_backlog_of_more_than_a_batch_invites_another_drain(environment, receiver, published, settings, due, invited):
    settings.OUTFLOW_DELIVERY_BATCH = 2
    subscription = _subscription(environment, receiver)
    _ingest(environment, due)
    coordination().wake_clear(subscription_id=subscription.pk)
    published.clear()

    subscription_drain(subscription_id=subscription.pk)

    assert (([subscription.pk], None) in published) is invited
    assert len(receiver.received("/hook")) == due


@pytest.mark.parametrize(("due", "claims"), [(4, 1), (8, 2), (9, 3), (1, 1)])
def test_a_drain_claims_again_only_while_its_last_claim_left_rows_due(
    environment, receiver, published, settings, due, claims
):
    """Its claim tells whether more rows were due than it took: a drain that took the last of them sends them and
    ends, without a claim that would find nothing."""
    settings.OUTFLOW_DELIVERY_BATCH = 4
    subscription = _subscription(environment, receiver)
    _ingest(environment, due)

    with CaptureQueriesContext(connection) as queries:
        subscription_drain(subscription_id=subscription.pk)

    statements = [query["sql"] for query in queries.captured_queries]
    assert sum("attempts = attempts + 1" in sql for sql in statements) == claims
    assert len(receiver.received("/hook")) == due


@pytest.mark.parametrize("rest", ["circuit", "slow_down"])
def test_a_drain_sends_nothing_while_its_endpoint_rests_and_comes_back_when_it_ends(
    environment, receiver, published, settings, rest
):
    subscription = _subscription(environment, receiver)
    _ingest(environment, 2)
    published.clear()
    until = timezone.now() + timedelta(seconds=2)
    if rest == "circuit":
        coordination().circuit_trip(subscription_id=subscription.pk, until=until)
    else:
        coordination().slow_down(subscription_id=subscription.pk, until=until)

    end = subscription_drain(subscription_id=subscription.pk)

    assert end.deferral.reason == {"circuit": "endpoint_unreachable", "slow_down": "endpoint_slow_down"}[rest]
    assert 1.5 < end.deferral.seconds <= 2
    assert (
        receiver.received() == [] and Delivery.objects.filter(status=Delivery.Status.PENDING, attempts=0).count() == 2
    )
    [(woken, countdown)] = published
    assert woken == [subscription.pk] and countdown > 1.5
    assert coordination().keys_of(subscription_ids=[subscription.pk])[subscription.pk].slots_held == 0


def test_a_claim_says_whether_rows_were_left_due_beyond_those_it_took(environment, receiver):
    subscription = _subscription(environment, receiver)
    _ingest(environment, 5)

    first = deliveries_claim(subscription=subscription, limit=3, lease_seconds=60)
    second = deliveries_claim(subscription=subscription, limit=2, lease_seconds=60)

    assert (len(first.deliveries), first.more) == (3, True)
    assert (len(second.deliveries), second.more) == (2, False)
    assert deliveries_claim(subscription=subscription, limit=2, lease_seconds=60) == Claim(deliveries=[], more=False)


def test_an_ordered_subscription_sends_one_at_a_time_and_a_failure_holds_those_behind_it(
    environment, receiver, published
):
    receiver.script("/hook", statuses=[204, 500, 204])
    subscription = _subscription(environment, receiver, ordered=True)
    _ingest(environment, 4)
    first, second, third, fourth = Delivery.objects.order_by("created_at")

    subscription_drain(subscription_id=subscription.pk)

    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[first.pk] == Delivery.Status.SUCCEEDED
    assert statuses[second.pk] == Delivery.Status.RETRYING
    assert statuses[third.pk] == statuses[fourth.pk] == Delivery.Status.PENDING
    assert Delivery.objects.get(pk=third.pk).attempts == 0
    assert [request.headers["webhook-id"] for request in receiver.received("/hook")] == [str(first.pk), str(second.pk)]

    # Due again: the failed one goes first, then the rest, in order.
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=first.created_at)
    subscription_drain(subscription_id=subscription.pk)
    order = [request.headers["webhook-id"] for request in receiver.received("/hook")]
    assert order == [str(first.pk), str(second.pk), str(second.pk), str(third.pk), str(fourth.pk)]


def test_an_ordered_claim_finds_nothing_while_one_of_its_deliveries_is_being_sent(environment, receiver, published):
    subscription = _subscription(environment, receiver, ordered=True)
    _ingest(environment, 2)
    head = Delivery.objects.order_by("created_at").first()
    Delivery.objects.filter(pk=head.pk).update(status=Delivery.Status.SENDING)

    subscription_drain(subscription_id=subscription.pk)

    assert receiver.received() == []


def test_a_final_failure_of_an_ordered_subscription_lets_the_next_go(environment, receiver, published):
    receiver.script("/hook", statuses=[500, 204])
    subscription = _subscription(environment, receiver, ordered=True, max_retries=0, auto_disable=False)
    _ingest(environment, 2)

    subscription_drain(subscription_id=subscription.pk)

    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["failed", "succeeded"]


def test_a_subscription_deleted_while_its_drain_sends_is_deleted_and_the_drain_stores_nothing(
    transactional_db, environment, receiver, published
):
    subscription = _subscription(environment, receiver)
    _ingest(environment, 3)
    receiver.script("/hook", statuses=[204], delay=0.3)

    running = _drain_in_a_thread(subscription.pk)
    receiver.wait_for(1, "/hook")
    subscription_delete(subscription=subscription)
    running.join()

    assert not Subscription.objects.filter(pk=subscription.pk).exists()
    assert not Delivery.objects.exists() and not RequestLog.objects.exists()

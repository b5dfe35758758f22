"""The attempt loop under a rate limit and a 429's slow-down, against a real receiver and real Redis."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from delivery.attempts import deliveries_attempt
from delivery.in_flight import endpoint_resting_until, subscription_slow_down
from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.rate_limit import rate_permit_take, rate_window_seconds
from subscriptions.services import subscription_create
from tests.factories import event


def _subscription(environment, receiver, **fields):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"), **fields
    )


def _attempt_all(subscription) -> None:
    ids = list(Delivery.objects.filter(subscription=subscription).order_by("created_at").values_list("pk", flat=True))
    deliveries_attempt(subscription_id=subscription.pk, delivery_ids=ids)


def _ingest(environment, count: int) -> None:
    events_ingest(environment=environment, raw_events=[event() for _ in range(count)])


def test_a_batch_over_its_rate_limit_sends_the_limit_and_hands_back_the_rest_unattempted(environment, receiver):
    subscription = _subscription(environment, receiver, rate_limit=2)
    _ingest(environment, 5)

    before = timezone.now()
    _attempt_all(subscription)

    assert len(receiver.received("/hook")) == 2
    waiting = Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED)
    assert waiting.count() == 3
    for delivery in waiting:
        # Back as one countdown task when the oldest permit leaves the window; no attempt counted.
        assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 0 and delivery.queued
        assert delivery.lease_expires_at is None
        wait = (delivery.next_attempt_at - before).total_seconds()
        assert rate_window_seconds() - 0.3 < wait <= rate_window_seconds() + 0.3


def test_a_backlog_behind_a_low_limit_is_claimed_and_mapped_only_as_far_as_may_go(environment, receiver):
    # The mapping fails on some events: had the whole batch been claimed and mapped for the one request that may
    # go, those would have failed now (a final mapping error) instead of waiting their turn.
    subscription = _subscription(
        environment,
        receiver,
        rate_limit=1,
        mapping="if (event.endUserId === 'bad') { throw new Error('no'); } return event;",
    )
    events_ingest(environment=environment, raw_events=[event(), event(endUserId="bad"), event(endUserId="bad")])

    _attempt_all(subscription)

    assert len(receiver.received("/hook")) == 1
    rest = Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED)
    assert {(d.status, d.attempts, d.last_error) for d in rest} == {(Delivery.Status.PENDING, 0, "")}
    assert all(d.queued and d.lease_expires_at is None for d in rest), "back as one countdown task"

    # A batch that starts while the window is full claims nothing, and waits as rows for that task.
    _ingest(environment, 1)
    [later] = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
    deliveries_attempt(subscription_id=subscription.pk, delivery_ids=[later.pk])
    later.refresh_from_db()
    assert (later.status, later.attempts, later.queued) == (Delivery.Status.PENDING, 0, False)
    assert later.next_attempt_at > timezone.now()
    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 0


def test_a_stale_task_over_the_limit_puts_off_only_what_still_waits_its_turn(
    environment, receiver, django_capture_on_commit_callbacks
):
    subscription = _subscription(environment, receiver, rate_limit=1)
    _ingest(environment, 3)
    finished, later, waiting = Delivery.objects.order_by("created_at")
    Delivery.objects.filter(pk=finished.pk).update(status=Delivery.Status.SUCCEEDED, queued=False)
    # A retry whose back-off has a while to run (its own countdown task is on the way).
    retry_at = timezone.now() + timedelta(seconds=30)
    Delivery.objects.filter(pk=later.pk).update(status=Delivery.Status.RETRYING, attempts=1, next_attempt_at=retry_at)
    assert rate_permit_take(subscription_id=subscription.pk, rate_limit=1) is None

    with django_capture_on_commit_callbacks() as callbacks:
        _attempt_all(subscription)

    later.refresh_from_db()
    waiting.refresh_from_db()
    assert later.next_attempt_at == retry_at, "a retry's back-off is not cut short"
    assert waiting.queued and waiting.next_attempt_at > timezone.now()
    assert len(callbacks) == 1, "one task, for the one delivery put off"
    # Once nothing named by a task waits its turn, no task comes back at all: a stale task does not circle.
    Delivery.objects.filter(pk=waiting.pk).update(status=Delivery.Status.SUCCEEDED, queued=False)
    with django_capture_on_commit_callbacks() as callbacks:
        _attempt_all(subscription)
    assert callbacks == []


def test_a_long_wait_for_the_rate_limit_waits_as_rows_not_as_a_countdown(
    environment, receiver, django_capture_on_commit_callbacks, settings
):
    subscription = _subscription(environment, receiver, rate_limit=5)
    _ingest(environment, 2)
    subscription_slow_down(subscription_id=subscription.pk, seconds=600)

    with django_capture_on_commit_callbacks() as callbacks:
        _attempt_all(subscription)

    assert callbacks == [] and receiver.received("/hook") == []
    for delivery in Delivery.objects.all():
        assert not delivery.queued and delivery.attempts == 0
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=590)


def test_a_second_batch_over_the_limit_in_the_same_wait_waits_as_rows_for_the_first(environment, receiver):
    subscription = _subscription(environment, receiver, rate_limit=1)
    _ingest(environment, 2)
    _attempt_all(subscription)
    [first] = Delivery.objects.filter(status=Delivery.Status.PENDING)
    assert first.queued, "the first batch held back comes back as a task"

    _ingest(environment, 1)
    [second] = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
    deliveries_attempt(subscription_id=subscription.pk, delivery_ids=[second.pk])

    second.refresh_from_db()
    assert not second.queued and second.attempts == 0 and second.next_attempt_at > timezone.now()
    assert cache.get(f"outflow:waiting:{subscription.pk}") == 1, "the batch that finishes next sends it"
    assert len(receiver.received("/hook")) == 1


def test_a_batch_released_by_the_limiter_sends_again_once_the_window_moves(environment, receiver):
    subscription = _subscription(environment, receiver, rate_limit=2)
    _ingest(environment, 3)
    _attempt_all(subscription)
    assert len(receiver.received("/hook")) == 2

    _attempt_all(subscription)
    assert len(receiver.received("/hook")) == 2, "a task that fires before its time sends nothing"
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(next_attempt_at=timezone.now())
    time.sleep(rate_window_seconds())
    _attempt_all(subscription)
    assert len(receiver.received("/hook")) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}


@pytest.mark.parametrize("name", ["Retry-After", "retry-after"])
def test_a_429_with_retry_after_slows_the_whole_subscription_down(environment, receiver, name):
    receiver.script("/hook", statuses=[429, 204], headers={name: "30"})
    subscription = _subscription(environment, receiver)
    _ingest(environment, 3)

    _attempt_all(subscription)

    assert len(receiver.received("/hook")) == 1
    told = Delivery.objects.get(last_status_code=429)
    assert told.status == Delivery.Status.RETRYING and told.next_attempt_at >= timezone.now() + timedelta(seconds=28)
    rest = Delivery.objects.exclude(pk=told.pk)
    assert {(d.status, d.attempts) for d in rest} == {(Delivery.Status.PENDING, 0)}
    assert all(d.next_attempt_at >= timezone.now() + timedelta(seconds=28) for d in rest)

    # A batch that starts meanwhile sends nothing and waits as rows for the sweeper.
    _ingest(environment, 1)
    later = Delivery.objects.filter(attempts=0, next_attempt_at__lte=timezone.now())
    later_ids = list(later.values_list("pk", flat=True))
    deliveries_attempt(subscription_id=subscription.pk, delivery_ids=later_ids)
    assert len(receiver.received("/hook")) == 1
    [waiting] = Delivery.objects.filter(pk__in=later_ids)
    assert not waiting.queued and waiting.attempts == 0
    assert waiting.next_attempt_at >= timezone.now() + timedelta(seconds=28)
    assert endpoint_resting_until(subscription_id=subscription.pk) >= timezone.now() + timedelta(seconds=28)


def test_a_rate_limited_subscription_gets_no_permit_while_slowed_down(environment, receiver):
    receiver.script("/hook", statuses=[429, 204], headers={"Retry-After": "30"})
    subscription = _subscription(environment, receiver, rate_limit=100)
    _ingest(environment, 2)
    _attempt_all(subscription)
    assert len(receiver.received("/hook")) == 1

    assert rate_permit_take(subscription_id=subscription.pk, rate_limit=100).wait > 28


def test_a_429_without_retry_after_slows_nothing_down(environment, receiver):
    receiver.script("/hook", statuses=[429, 204])
    subscription = _subscription(environment, receiver)
    _ingest(environment, 3)

    _attempt_all(subscription)

    assert len(receiver.received("/hook")) == 3
    assert endpoint_resting_until(subscription_id=subscription.pk) is None


@pytest.mark.parametrize("retry_after", ["99999", "Wed, 01 Dec 2100 00:00:00 GMT"])
def test_a_slow_down_lasts_at_most_the_longest_back_off(environment, receiver, settings, retry_after):
    settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS = 120
    receiver.script("/hook", statuses=[429], headers={"Retry-After": retry_after})
    subscription = _subscription(environment, receiver)
    _ingest(environment, 1)

    _attempt_all(subscription)

    resting = endpoint_resting_until(subscription_id=subscription.pk)
    assert timezone.now() + timedelta(seconds=110) < resting <= timezone.now() + timedelta(seconds=121)

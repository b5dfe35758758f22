"""The drain under a rate limit and a 429's slow-down, against a real receiver and real Redis."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.coordination import coordination
from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.rate_limit import rate_permit_take, rate_window_seconds
from subscriptions.services import subscription_create
from tests.factories import event


def _subscription(environment, receiver, **fields):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"), **fields
    )


def _ingest(environment, count: int, **fields) -> None:
    events_ingest(environment=environment, raw_events=[event(**fields) for _ in range(count)])


def test_a_drain_over_its_rate_limit_sends_the_limit_and_leaves_the_rest_due_unattempted(
    environment, receiver, published
):
    subscription = _subscription(environment, receiver, rate_limit=2)
    _ingest(environment, 5)
    published.clear()

    end = subscription_drain(subscription_id=subscription.pk)

    assert len(receiver.received("/hook")) == 2
    rest = Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED)
    assert {(d.status, d.attempts, d.lease_expires_at) for d in rest} == {(Delivery.Status.PENDING, 0, None)}
    assert all(d.next_attempt_at <= timezone.now() for d in rest)
    # The drain comes back itself when the oldest permit leaves the window.
    assert end.deferral.reason == "rate_limit"
    [(woken, countdown)] = published
    assert woken == [subscription.pk] and rate_window_seconds() - 0.3 < countdown <= rate_window_seconds() + 0.1


def test_a_backlog_behind_a_low_limit_is_claimed_and_mapped_only_as_far_as_may_go(environment, receiver, published):
    # The mapping fails on some events: had the whole batch been claimed and mapped for the one request that may
    # go, those would have failed now (a final mapping error) instead of waiting their turn.
    subscription = _subscription(
        environment,
        receiver,
        rate_limit=1,
        mapping="if (event.endUserId === 'bad') { throw new Error('no'); } return event;",
    )
    events_ingest(environment=environment, raw_events=[event(), event(endUserId="bad"), event(endUserId="bad")])

    subscription_drain(subscription_id=subscription.pk)

    assert len(receiver.received("/hook")) == 1
    rest = Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED)
    assert {(d.status, d.attempts, d.last_error) for d in rest} == {(Delivery.Status.PENDING, 0, "")}
    # A drain that starts while the window is full claims nothing.
    subscription_drain(subscription_id=subscription.pk)
    assert Delivery.objects.filter(attempts__gt=0).count() == 1


def test_the_rest_goes_once_the_window_moves(environment, receiver, published):
    subscription = _subscription(environment, receiver, rate_limit=2)
    _ingest(environment, 3)
    subscription_drain(subscription_id=subscription.pk)
    assert len(receiver.received("/hook")) == 2

    time.sleep(rate_window_seconds())
    subscription_drain(subscription_id=subscription.pk)
    assert len(receiver.received("/hook")) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}


@pytest.mark.parametrize("name", ["Retry-After", "retry-after"])
def test_a_429_with_retry_after_slows_the_whole_subscription_down(environment, receiver, published, name):
    receiver.script("/hook", statuses=[429, 204], headers={name: "30"})
    subscription = _subscription(environment, receiver)
    _ingest(environment, 3)

    end = subscription_drain(subscription_id=subscription.pk)

    assert len(receiver.received("/hook")) == 1 and end.deferral.reason == "endpoint_slow_down"
    told = Delivery.objects.get(last_status_code=429)
    assert told.status == Delivery.Status.RETRYING and told.next_attempt_at >= timezone.now() + timedelta(seconds=28)
    rest = Delivery.objects.exclude(pk=told.pk)
    assert {(d.status, d.attempts) for d in rest} == {(Delivery.Status.PENDING, 0)}

    # A drain that starts meanwhile sends nothing.
    _ingest(environment, 1)
    subscription_drain(subscription_id=subscription.pk)
    assert len(receiver.received("/hook")) == 1
    assert coordination().rest(subscription_id=subscription.pk).until >= timezone.now() + timedelta(seconds=28)


def test_a_rate_limited_subscription_gets_no_permit_while_slowed_down(environment, receiver, published):
    receiver.script("/hook", statuses=[429, 204], headers={"Retry-After": "30"})
    subscription = _subscription(environment, receiver, rate_limit=100)
    _ingest(environment, 2)
    subscription_drain(subscription_id=subscription.pk)
    assert len(receiver.received("/hook")) == 1

    assert rate_permit_take(subscription_id=subscription.pk, rate_limit=100).wait > 28


def test_a_429_without_retry_after_slows_nothing_down(environment, receiver, published):
    receiver.script("/hook", statuses=[429, 204])
    subscription = _subscription(environment, receiver)
    _ingest(environment, 3)

    subscription_drain(subscription_id=subscription.pk)

    assert len(receiver.received("/hook")) == 3
    assert coordination().rest(subscription_id=subscription.pk) is None


@pytest.mark.parametrize("retry_after", ["99999", "Wed, 01 Dec 2100 00:00:00 GMT"])
def test_a_slow_down_lasts_at_most_the_longest_back_off(environment, receiver, published, settings, retry_after):
    settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS = 120
    receiver.script("/hook", statuses=[429], headers={"Retry-After": retry_after})
    subscription = _subscription(environment, receiver)
    _ingest(environment, 1)

    subscription_drain(subscription_id=subscription.pk)

    resting = coordination().rest(subscription_id=subscription.pk).until
    assert timezone.now() + timedelta(seconds=110) < resting <= timezone.now() + timedelta(seconds=121)

"""`waiting_on`: delivery/README.md's checklist made executable, one test per reason, each state built for real
(a real receiver, real Redis keys, the rows as the drain leaves them)."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from delivery.coordination import coordination
from delivery.drain import subscription_drain
from delivery.explain import delivery_explain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from subscriptions.services import subscription_create, subscription_pause
from tests.delivery.steps import claim, dead_subscription
from tests.factories import event

pytestmark = pytest.mark.usefixtures("published")


def _subscription(environment, receiver, **fields):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"), **fields
    )


def _ingest(environment, count: int = 1) -> list[Delivery]:
    events_ingest(environment=environment, raw_events=[event() for _ in range(count)])
    return list(Delivery.objects.select_related("subscription").order_by("created_at"))


def _explained(delivery: Delivery):
    return delivery_explain(delivery=Delivery.objects.select_related("subscription").get(pk=delivery.pk))


def test_final_says_how_it_ended(environment, receiver):
    subscription = _subscription(environment, receiver)
    [delivery] = _ingest(environment)
    subscription_drain(subscription_id=subscription.pk)
    waiting = _explained(delivery)
    assert (waiting.reason, waiting.until) == ("final", None)
    assert waiting.detail == "succeeded: the endpoint answered 204"


def test_sending_until_its_lease(environment, receiver):
    subscription = _subscription(environment, receiver)
    [delivery] = _ingest(environment)
    [claimed] = claim(subscription)
    waiting = _explained(delivery)
    assert (waiting.reason, waiting.until) == ("sending", claimed.lease_expires_at)


def test_back_off_until_the_retry(environment, receiver, settings):
    settings.OUTFLOW_RETRY_BASE_SECONDS = 30
    receiver.script("/hook", statuses=[500])
    subscription = _subscription(environment, receiver)
    [delivery] = _ingest(environment)
    subscription_drain(subscription_id=subscription.pk)
    waiting = _explained(delivery)
    assert waiting.reason == "back_off" and waiting.until == Delivery.objects.get().next_attempt_at
    assert "endpoint answered 500" in waiting.detail


def test_endpoint_unreachable_while_its_circuit_is_open(environment, receiver, settings):
    settings.OUTFLOW_RETRY_BASE_SECONDS = 30
    dead = dead_subscription(environment)
    failed, behind = _ingest(environment, 2)
    subscription_drain(subscription_id=dead.pk)
    waiting = _explained(behind)
    assert waiting.reason == "endpoint_unreachable"
    assert abs((waiting.until - Delivery.objects.get(pk=failed.pk).next_attempt_at).total_seconds()) < 0.01


def test_endpoint_slow_down_after_a_429_with_retry_after(environment, receiver):
    receiver.script("/hook", statuses=[429], headers={"Retry-After": "30"})
    subscription = _subscription(environment, receiver)
    _, behind = _ingest(environment, 2)
    subscription_drain(subscription_id=subscription.pk)
    waiting = _explained(behind)
    assert waiting.reason == "endpoint_slow_down" and waiting.until > timezone.now() + timedelta(seconds=25)


def test_rate_limit_when_its_window_is_full(environment, receiver):
    subscription = _subscription(environment, receiver, rate_limit=1)
    _, behind = _ingest(environment, 2)
    subscription_drain(subscription_id=subscription.pk)
    waiting = _explained(behind)
    assert waiting.reason == "rate_limit" and timezone.now() < waiting.until <= timezone.now() + timedelta(seconds=2)


def test_in_flight_limit_when_every_drain_is_busy(environment, receiver, settings):
    subscription = _subscription(environment, receiver)
    [delivery] = _ingest(environment)
    for _ in range(settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION):
        coordination().slot_take(subscription_id=subscription.pk, slots=4, seconds=30)
    assert _explained(delivery).reason == "in_flight_limit"


def test_ordered_names_the_delivery_ahead(environment, receiver, settings):
    settings.OUTFLOW_RETRY_BASE_SECONDS = 30
    receiver.script("/hook", statuses=[500])
    subscription = _subscription(environment, receiver, ordered=True)
    head, behind = _ingest(environment, 2)
    subscription_drain(subscription_id=subscription.pk)
    waiting = _explained(behind)
    assert waiting.reason == "ordered" and str(head.pk) in waiting.detail
    assert _explained(head).reason == "back_off"


def test_paused(environment, receiver):
    subscription = _subscription(environment, receiver)
    [delivery] = _ingest(environment)
    subscription_pause(subscription=subscription, reason="maintenance window")
    waiting = _explained(delivery)
    assert waiting.reason == "paused" and "maintenance window" in waiting.detail


def test_queued_counts_the_due_deliveries_ahead(environment, receiver):
    _subscription(environment, receiver)
    first, _, third = _ingest(environment, 3)
    assert _explained(third).detail == "due; 2 due deliveries of the subscription are ahead of it"
    assert _explained(first).reason == "queued"


def test_the_command_prints_it_as_one_json_line(environment, receiver):
    _subscription(environment, receiver)
    [delivery] = _ingest(environment)
    out = io.StringIO()
    call_command("delivery_explain", str(delivery.pk), stdout=out)
    assert json.loads(out.getvalue()) == {
        "reason": "queued",
        "until": None,
        "detail": "due; 0 due deliveries of the subscription are ahead of it",
    }

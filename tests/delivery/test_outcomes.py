"""Recording outcomes: Retry-After, long waits as rows, the final failure's pause, failures scheduled together."""

from datetime import timedelta

from django.utils import timezone

from delivery import outcomes, wakes
from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.sweeper import deliveries_sweep
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.delivery.steps import attempt
from tests.factories import event


def test_a_batchs_failures_of_one_kind_are_scheduled_together(
    environment, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )
    receiver.script("/hook", statuses=[500])
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    deferred: list = []
    monkeypatch.setattr(outcomes, "deferral_record", lambda **kwargs: deferred.append(kwargs))

    with django_capture_on_commit_callbacks(execute=True):
        subscription_drain(subscription_id=subscription.pk)

    retrying = Delivery.objects.all()
    assert {delivery.status for delivery in retrying} == {Delivery.Status.RETRYING}
    assert len({delivery.next_attempt_at for delivery in retrying}) == 1
    assert len(deferred) == 1 and deferred[0]["subscription_id"] == subscription.pk
    assert deferred[0]["deferral"].reason == "back_off"


def test_retry_after_longer_than_the_backoff_is_honoured(delivery, receiver):
    receiver.script("/hook", statuses=[429], headers={"Retry-After": "40"})
    attempt(delivery)
    retrying = Delivery.objects.get()
    assert retrying.status == Delivery.Status.RETRYING and retrying.last_status_code == 429
    wait = (retrying.next_attempt_at - timezone.now()).total_seconds()
    assert 38 <= wait <= 40


def test_retry_after_is_read_whatever_its_case(delivery, receiver):
    receiver.script("/hook", statuses=[503], headers={"retry-after": "40"})
    attempt(delivery)
    wait = (Delivery.objects.get().next_attempt_at - timezone.now()).total_seconds()
    assert 38 <= wait <= 40


def test_a_long_wait_is_a_row_for_the_sweeper_not_a_broker_task(delivery, receiver, monkeypatch):
    published: list = []
    monkeypatch.setattr(wakes, "_publish", lambda ids, **kwargs: published.append((ids, kwargs)))
    receiver.script("/hook", statuses=[503], headers={"Retry-After": "3600"})
    attempt(delivery)
    assert Delivery.objects.get().status == Delivery.Status.RETRYING
    assert published == []
    assert deliveries_sweep() == {"leases_recovered": 0, "woken": 0, "recoveries_resumed": 0}

    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliveries_sweep()["woken"] == 1
    assert published == [([delivery.subscription_id], {"own_traces": True})]


def test_final_failure_pauses_once_with_the_reason(delivery, subscription, receiver):
    Subscription.objects.update(max_retries=0)
    receiver.script("/hook", statuses=[410])
    attempt(delivery)
    paused = Subscription.objects.get()
    assert paused.status == Subscription.Status.PAUSED
    assert paused.paused_reason == "retries exhausted after 1 attempt: endpoint answered 410"

"""Recovery in bulk: the request answers at once, the deliveries go pending in bounded batches, a lost task resumes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delivery import recovery
from delivery.ingest import events_ingest
from delivery.models import Delivery, Recovery
from delivery.recovery import deliveries_recover, recovery_continue
from delivery.sweeper import deliveries_sweep
from subscriptions.services import subscription_create
from tests.factories import event


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )


@pytest.fixture
def failed(environment, subscription):
    events_ingest(environment=environment, raw_events=[event() for _ in range(7)])
    Delivery.objects.update(status=Delivery.Status.FAILED, attempts=3, created_at=Now() - timedelta(hours=1))
    return Delivery.objects.all()


def _since():
    return Delivery.objects.order_by("created_at").first().created_at


def test_a_recover_answers_how_many_it_matched_and_changes_no_delivery_itself(failed, subscription):
    with CaptureQueriesContext(connection) as queries:
        assert deliveries_recover(subscription=subscription, since=_since()) == 7

    assert len(queries) <= 8
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.FAILED}
    assert Recovery.objects.get().matched == 7


def test_the_work_goes_in_bounded_batches_until_every_match_is_pending(failed, subscription, monkeypatch):
    monkeypatch.setattr(recovery, "RECOVERY_BATCH", 3)
    deliveries_recover(subscription=subscription, since=_since())
    [pending] = Recovery.objects.values_list("pk", flat=True)
    with CaptureQueriesContext(connection) as queries:
        recovery_continue(recovery_id=pending)
    updates = [query["sql"] for query in queries if query["sql"].startswith('UPDATE "delivery_delivery"')]

    assert len(updates) == 3
    done = Recovery.objects.get()
    assert (done.recovered, done.finished_at is not None) == (7, True)
    recovered = Delivery.objects.all()
    assert all(d.status == Delivery.Status.PENDING and d.attempts == 0 for d in recovered)


def test_a_delivery_that_fails_again_during_a_recovery_is_not_taken_again(failed, subscription, monkeypatch):
    monkeypatch.setattr(recovery, "RECOVERY_BATCH", 1000)
    deliveries_recover(subscription=subscription, since=_since())
    first = Delivery.objects.first()
    Delivery.objects.exclude(pk=first.pk).update(updated_at=Now() - timedelta(minutes=5))
    # As if the recovered delivery went, failed at once, and the recovery's task came round again.
    recovery_continue(recovery_id=Recovery.objects.get().pk)
    Delivery.objects.filter(pk=first.pk).update(status=Delivery.Status.FAILED, updated_at=Now())
    Recovery.objects.update(finished_at=None)
    recovery_continue(recovery_id=Recovery.objects.get().pk)

    assert Delivery.objects.get(pk=first.pk).status == Delivery.Status.FAILED
    assert Recovery.objects.get().recovered == 7


def test_the_sweeper_resumes_a_recovery_whose_task_was_lost(failed, subscription, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(recovery.app, "send_task", lambda name, args: sent.append((name, args)))
    deliveries_recover(subscription=subscription, since=_since())
    assert deliveries_sweep()["recoveries_resumed"] == 0

    Recovery.objects.update(updated_at=Now() - timedelta(minutes=5))

    assert deliveries_sweep()["recoveries_resumed"] == 1
    [pending] = Recovery.objects.values_list("pk", flat=True)
    assert sent[-1] == (recovery.CONTINUE_TASK, (str(pending),))


def test_nothing_to_recover_leaves_no_recovery(subscription):
    assert deliveries_recover(subscription=subscription, since=timezone.now()) == 0
    assert not Recovery.objects.exists()

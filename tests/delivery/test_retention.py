"""Retention: rows aged by SQL, then purged by `purge_expired` and beat, in batches, keeping what is unfinished."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models.functions import Now
from django.utils import timezone

from delivery import retention
from delivery.ingest import events_ingest
from delivery.models import Delivery, Event, Recovery
from delivery.recovery import deliveries_recover, recovery_continue
from delivery.retention import events_purge
from delivery.tasks import expired_purge_task
from requestlog.models import RequestLog
from subscriptions.services import subscription_create
from tests.factories import event


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )


def _age(days: int, **delivery_filter) -> None:
    """Make matching deliveries and their events `days` old, as a month of running would."""
    deliveries = Delivery.objects.filter(**delivery_filter)
    Event.objects.filter(deliveries__in=deliveries).update(received_at=Now() - timedelta(days=days))
    deliveries.update(created_at=Now() - timedelta(days=days))


def _purge() -> dict:
    out = StringIO()
    call_command("purge_expired", stdout=out)
    return json.loads(out.getvalue())


def test_old_events_and_their_finished_deliveries_are_purged_and_nothing_else(environment, subscription):
    old = [event() for _ in range(3)]
    young = event()
    events_ingest(environment=environment, raw_events=[*old, young])
    old_ids = [e["id"] for e in old]
    Delivery.objects.filter(event__event_id__in=old_ids[:2]).update(status=Delivery.Status.SUCCEEDED)
    Delivery.objects.filter(event__event_id=old_ids[2]).update(status=Delivery.Status.RETRYING)
    _age(31, event__event_id__in=old_ids)
    RequestLog.objects.create(subscription=subscription, method="POST", url="http://x")
    RequestLog.objects.create(subscription=subscription, method="POST", url="http://x")
    RequestLog.objects.filter(pk=RequestLog.objects.first().pk).update(created_at=Now() - timedelta(days=31))

    assert _purge() == {"events": 2, "deliveries": 2, "request_logs": 1, "notifications": 0, "audit_entries": 0}
    # The retrying delivery (and its event) stay until it finishes; the young event is within its time.
    assert set(Event.objects.values_list("event_id", flat=True)) == {old_ids[2], young["id"]}
    assert RequestLog.objects.count() == 1
    assert _purge() == {"events": 0, "deliveries": 0, "request_logs": 0, "notifications": 0, "audit_entries": 0}


def test_an_event_id_is_deduplicated_for_the_retention_period_only(environment, subscription, settings):
    settings.OUTFLOW_EVENT_RETENTION_DAYS = 7
    sent = event()
    events_ingest(environment=environment, raw_events=[sent])
    Delivery.objects.update(status=Delivery.Status.SUCCEEDED)
    _age(6)
    expired_purge_task()

    assert events_ingest(environment=environment, raw_events=[sent]).duplicates == 1

    _age(8)
    assert expired_purge_task() == {
        "events": 1,
        "deliveries": 1,
        "request_logs": 0,
        "notifications": 0,
        "audit_entries": 0,
    }
    again = events_ingest(environment=environment, raw_events=[sent])
    assert (again.accepted, again.duplicates) == (1, 0)


def test_the_purge_goes_in_batches_oldest_events_included(environment, subscription):
    events_ingest(environment=environment, raw_events=[event() for _ in range(7)])
    Delivery.objects.update(status=Delivery.Status.FAILED)
    _age(40)

    assert events_purge(older_than=_cutoff(), batch_size=3) == (7, 7)
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_a_delivery_recovered_after_its_event_was_chosen_keeps_itself_and_its_event(environment, subscription):
    events_ingest(environment=environment, raw_events=[event()])
    Delivery.objects.update(status=Delivery.Status.FAILED)
    _age(40)
    chosen = list(Event.objects.values_list("pk", flat=True))
    deliveries_recover(subscription=subscription, since=Delivery.objects.get().created_at)
    recovery_continue(recovery_id=Recovery.objects.get().pk)

    assert retention._batch_delete(chosen) == (0, 0)
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_a_spent_time_budget_stops_between_batches(environment, subscription):
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    Delivery.objects.update(status=Delivery.Status.SUCCEEDED)
    _age(40)

    assert events_purge(older_than=_cutoff(), deadline=0, batch_size=1) == (0, 0)
    assert Event.objects.count() == 3


def _cutoff():
    return timezone.now() - timedelta(days=30)

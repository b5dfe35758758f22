"""Outflow's own pause, through a real attempt against a real receiver: written as the system's, in the worker's
transaction, where no request or command set an actor."""

from audit.models import AuditEntry
from delivery.ingest import events_ingest
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tenancy.actors import _current
from tests.factories import event


def test_retries_exhausted_pause_is_written_as_the_system_s(environment, receiver, attempt_pending):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook"), max_retries=0
    )
    receiver.script("/hook", statuses=[410])
    events_ingest(environment=environment, raw_events=[event()])
    token = _current.set(None)  # as in a worker process
    try:
        attempt_pending()
    finally:
        _current.reset(token)
    assert Subscription.objects.get().status == Subscription.Status.PAUSED
    entry = AuditEntry.objects.get(action="subscription.paused")
    assert (entry.actor_type, entry.actor_id, entry.actor_name) == ("system", "", "Outflow")
    assert (entry.object_id, entry.object_name) == (str(subscription.pk), "sink")
    assert entry.changes["paused_reason"][1] == "retries exhausted after 1 attempt: endpoint answered 410"

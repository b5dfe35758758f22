"""Recording outcomes: a batch's failures of one kind wait together and come back as one task."""

from delivery import outcomes
from delivery.attempts import deliveries_attempt
from delivery.ingest import events_ingest
from delivery.models import Delivery
from subscriptions.services import subscription_create
from tests.factories import event


def test_a_batchs_failures_of_one_kind_are_scheduled_together(
    environment, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )
    receiver.script("/hook", statuses=[500])
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    enqueued: list[list] = []
    monkeypatch.setattr(outcomes, "deliveries_enqueue", lambda *, due, countdown: enqueued.append(list(due)))

    with django_capture_on_commit_callbacks() as callbacks:
        deliveries_attempt(
            subscription_id=subscription.pk, delivery_ids=list(Delivery.objects.values_list("pk", flat=True))
        )

    for callback in callbacks:
        callback()
    retrying = Delivery.objects.all()
    assert {delivery.status for delivery in retrying} == {Delivery.Status.RETRYING}
    assert len({delivery.next_attempt_at for delivery in retrying}) == 1
    assert len(enqueued) == 1 and len(enqueued[0]) == 5

"""A mapping that throws fails that delivery at once; only a run of them pauses an auto-disable subscription."""

import pytest

from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from notifications.models import Notification
from notifications.services import notification_settings_update
from subscriptions.models import Subscription
from subscriptions.services import subscription_create, subscription_resume, subscription_update
from tests.factories import event

THROWS_ON_BAD = "if (event.endUserId === 'bad') { throw new Error('no card'); } return event;"


pytestmark = pytest.mark.usefixtures("published")


@pytest.fixture
def subscription(environment, receiver, settings):
    settings.OUTFLOW_MAPPING_ERRORS_TO_PAUSE = 3
    return subscription_create(
        environment=environment,
        name="sink",
        event_types=["card-completed"],
        url=receiver.url("/hook"),
        mapping=THROWS_ON_BAD,
    )


def _send(environment, subscription, *users: str) -> None:
    events_ingest(environment=environment, raw_events=[event(endUserId=user) for user in users])
    subscription_drain(subscription_id=subscription.pk)


def test_one_odd_event_fails_its_delivery_not_the_subscription(environment, subscription, receiver):
    notification_settings_update(environment=environment, webhook_url=receiver.url("/ops"))
    _send(environment, subscription, "ok", "bad", "ok")

    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["failed", "succeeded", "succeeded"]
    assert "no card" in Delivery.objects.get(status=Delivery.Status.FAILED).last_error
    kept = Subscription.objects.get()
    assert kept.status == Subscription.Status.ACTIVE and kept.mapping_failures == 0
    # The customer is told.
    assert Notification.objects.filter(type="delivery.failed").exists()


def test_a_run_of_failures_pauses_an_auto_disable_subscription(environment, subscription, receiver):
    _send(environment, subscription, "bad", "bad")
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    _send(environment, subscription, "bad")

    paused = Subscription.objects.get()
    assert paused.status == Subscription.Status.PAUSED
    assert paused.paused_reason.startswith("3 deliveries in a row failed by the mapping; the last: mapping error")


def test_a_mapped_delivery_starts_the_run_again(environment, subscription, receiver):
    _send(environment, subscription, "bad", "bad", "ok")
    assert Subscription.objects.get().mapping_failures == 0
    _send(environment, subscription, "bad", "bad")
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    assert Subscription.objects.get().mapping_failures == 2


def test_without_auto_disable_a_run_only_tells(environment, subscription, receiver):
    Subscription.objects.update(auto_disable=False)
    _send(environment, subscription, "bad", "bad", "bad", "bad")
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_a_resume_or_a_new_script_starts_the_run_again(environment, subscription, receiver):
    _send(environment, subscription, "bad", "bad", "bad")
    assert Subscription.objects.get().status == Subscription.Status.PAUSED
    subscription_resume(subscription=Subscription.objects.get())
    assert Subscription.objects.get().mapping_failures == 0
    _send(environment, subscription, "bad")
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE

    subscription_update(subscription=Subscription.objects.get(), mapping="return event;")
    assert Subscription.objects.get().mapping_failures == 0

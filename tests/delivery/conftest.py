"""Fixtures of the delivery tests: a subscription sending to the real receiver, one delivery of it, and the wakes
published instead of tasks."""

import pytest

from delivery import wakes
from delivery.ingest import events_ingest
from delivery.models import Delivery
from subscriptions.services import subscription_create
from tests.factories import event


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/hook")
    )


@pytest.fixture
def delivery(environment, subscription) -> Delivery:
    events_ingest(environment=environment, raw_events=[event()])
    return Delivery.objects.get()


class Published(list):
    """The wakes published, as (subscription ids, countdown), instead of tasks: these tests run the drains."""

    def subscription_ids(self) -> list:
        return [pk for ids, _ in self for pk in ids]


@pytest.fixture
def published(monkeypatch) -> Published:
    sent = Published()
    monkeypatch.setattr(wakes, "_publish", lambda ids, countdown=None, **kwargs: sent.append((list(ids), countdown)))
    return sent

"""Fixtures of the delivery tests: a subscription sending to the real receiver, and one delivery of it."""

import pytest

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

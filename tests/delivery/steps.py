"""Steps the delivery tests share: attempt deliveries as a task would, and a subscription whose endpoint is dead."""

import socket

from delivery.attempts import deliveries_attempt
from delivery.models import Delivery
from subscriptions.models import Subscription
from subscriptions.services import subscription_create


def attempt(*deliveries: Delivery) -> None:
    deliveries_attempt(subscription_id=deliveries[0].subscription_id, delivery_ids=[d.pk for d in deliveries])


def _closed_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


def dead_subscription(environment, **fields) -> Subscription:
    """A subscription whose endpoint refuses every connection."""
    return subscription_create(
        environment=environment,
        name="dead",
        event_types=["card-completed"],
        url=f"http://127.0.0.1:{_closed_port()}/hook",
        **fields,
    )

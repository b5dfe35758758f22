"""Steps the delivery tests share: drain a subscription as its task would, and a subscription whose endpoint is dead."""

import socket

from delivery.claims import deliveries_claim, ordered_deliveries_claim
from delivery.drain import subscription_drain
from delivery.leases import lease_seconds
from delivery.models import Delivery
from subscriptions.models import Subscription
from subscriptions.services import subscription_create


def attempt(*deliveries: Delivery) -> None:
    """Drain the subscription of these deliveries (whatever of it is due goes, these among them)."""
    subscription_drain(subscription_id=deliveries[0].subscription_id)


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


def claim(subscription: Subscription, limit: int = 100) -> list:
    """Claim the subscription's due deliveries as its drain would (an ordered one's in order)."""
    claimer = ordered_deliveries_claim if subscription.ordered else deliveries_claim
    return claimer(
        subscription=subscription, limit=limit, lease_seconds=lease_seconds(subscription=subscription)
    ).deliveries

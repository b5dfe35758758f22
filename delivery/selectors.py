"""Read queries of the delivery app."""

from delivery.models import Delivery, Event


def deliveries_of(*, subscription, status: str | None = None):
    """A subscription's deliveries, newest first (the index delivery_newest_first serves the order)."""
    deliveries = (
        Delivery.objects.filter(subscription=subscription)
        .select_related("event", "subscription")
        # The payload (up to OUTFLOW_MAX_EVENT_BYTES a row) is not shown in a list: not read either.
        .defer("event__payload")
        .order_by("-created_at", "-id")
    )
    return deliveries.filter(status=status) if status else deliveries


def delivery_of(*, environment, pk) -> Delivery | None:
    """One delivery of the environment (None for another environment's, as for one that does not exist)."""
    return (
        Delivery.objects.filter(subscription__environment=environment, pk=pk)
        .select_related("event", "subscription")
        .defer("event__payload")
        .first()
    )


def ordered_head(*, subscription_id) -> tuple | None:
    """(created_at, id, status, next_attempt_at) of the subscription's oldest delivery not yet final: an ordered
    subscription's next to go, which nothing behind may overtake. One probe of the (subscription, status, created_at)
    index per status; ties in created_at go by id, as the ordered claim (delivery/claims.py) takes them."""
    heads = [
        head
        for status in (*Delivery.CLAIMABLE, Delivery.Status.SENDING)
        if (
            head := Delivery.objects.filter(subscription_id=subscription_id, status=status)
            .order_by("created_at", "id")
            .values_list("created_at", "id", "status", "next_attempt_at")
            .first()
        )
    ]
    return min(heads) if heads else None


def latest_matching_event(*, subscription, include_test_events: bool, event_type: str | None = None) -> Event | None:
    """The environment's newest event this subscription would receive (of `event_type` when given, whether the
    subscription takes that type or not)."""
    names = [event_type] if event_type is not None else subscription.event_types.values_list("name", flat=True)
    events = Event.objects.filter(environment_id=subscription.environment_id, name__in=names)
    if subscription.card:
        events = events.filter(card=subscription.card)
    if not include_test_events:
        events = events.filter(is_test=False)
    return events.order_by("-received_at").first()

"""Why has a delivery not gone? `waiting_on`, from the row and its subscription's coordination keys, in one place.

The API, the Workbench and `manage.py delivery_explain` show what this answers; delivery/README.md's checklist is
the same order, and tests/delivery/test_explain.py builds each of its rows for real.
"""

import bisect
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from config.shared_cache import CACHE_ERRORS
from delivery.coordination import coordination
from delivery.coordination.base import SubscriptionKeys
from delivery.db_clock import database_now
from delivery.drain import drain_slots
from delivery.models import Delivery
from delivery.rate_limit import rate_room
from delivery.selectors import ordered_head
from subscriptions.models import Subscription

QUEUE_COUNT_CAP = 1000
_REASON_WORDS = {
    "final": "Done",
    "sending": "Being sent",
    "back_off": "Waiting to retry",
    "endpoint_unreachable": "Endpoint not answering",
    "endpoint_slow_down": "Endpoint asked to slow down",
    "rate_limit": "Held by the rate limit",
    "in_flight_limit": "All of the subscription's drains are busy",
    "ordered": "Waiting for an earlier delivery",
    "paused": "Subscription paused",
    "queued": "Queued",
}


@dataclass(frozen=True, slots=True)
class WaitingOn:
    """`reason` (API.md lists them), until when if that is known, and a sentence for people."""

    reason: str
    until: datetime | None
    detail: str

    @property
    def words(self) -> str:
        """The reason as the Workbench says it."""
        return _REASON_WORDS[self.reason]

    def as_dict(self) -> dict:
        return {"reason": self.reason, "until": self.until.isoformat() if self.until else None, "detail": self.detail}


class _Subscription:
    """What every delivery of one subscription is explained against, each read once and only if needed: a page of
    50 costs a few bounded queries, not a few per row."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.now = database_now()
        try:
            self.keys: SubscriptionKeys | None = coordination().keys_of(subscription_ids=[subscription.pk])[
                subscription.pk
            ]
        except CACHE_ERRORS:
            self.keys = None

    @functools.cached_property
    def head(self) -> tuple | None:
        """(created_at, id) of the oldest delivery not yet final: an ordered subscription's next to go."""
        head = ordered_head(subscription_id=self.subscription.pk)
        return head[:2] if head else None

    @functools.cached_property
    def rate_room(self):
        """How many requests the subscription's rate limit lets go now (one Redis call, taking nothing)."""
        return rate_room(subscription_id=self.subscription.pk, rate_limit=self.subscription.rate_limit, ready=1)

    @functools.cached_property
    def due_times(self) -> list:
        """The due times of the subscription's first QUEUE_COUNT_CAP claimable deliveries, in claim order."""
        return list(
            Delivery.objects.filter(subscription_id=self.subscription.pk, status__in=Delivery.CLAIMABLE)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)[:QUEUE_COUNT_CAP]
        )


def deliveries_explain(*, deliveries: list[Delivery]) -> dict:
    """`waiting_on` of each delivery, by its id."""
    seen: dict = {}
    answer = {}
    for delivery in deliveries:
        if delivery.subscription_id not in seen:
            seen[delivery.subscription_id] = _Subscription(delivery.subscription)
        answer[delivery.pk] = _waiting_on(delivery, seen[delivery.subscription_id])
    return answer


def delivery_explain(*, delivery: Delivery) -> WaitingOn:
    return deliveries_explain(deliveries=[delivery])[delivery.pk]


def _waiting_on(delivery: Delivery, context: _Subscription) -> WaitingOn:
    subscription, keys, now = context.subscription, context.keys, context.now
    if delivery.status in Delivery.FINAL:
        return WaitingOn("final", None, _final_detail(delivery))
    if delivery.status == Delivery.Status.SENDING:
        return WaitingOn(
            "sending",
            delivery.lease_expires_at,
            f"attempt {delivery.attempts} is with a worker; if it has not finished by then, the sweeper takes it back",
        )
    if subscription.status == Subscription.Status.PAUSED:
        return WaitingOn("paused", None, f"the subscription is paused: {subscription.paused_reason or 'by a user'}")
    if subscription.ordered and context.head is not None and context.head < (delivery.created_at, delivery.pk):
        return WaitingOn("ordered", None, f"delivery {context.head[1]} is ahead of it in the subscription's order")
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        error = f" after: {delivery.last_error}" if delivery.last_error else ""
        return WaitingOn(
            "back_off", delivery.next_attempt_at, f"attempt {delivery.attempts + 1} waits its back-off{error}"
        )
    if keys is not None and keys.rest is not None:
        detail = (
            "the endpoint stopped answering; it is tried again then"
            if keys.rest.reason == "endpoint_unreachable"
            else "the endpoint answered 429 with Retry-After; nothing is sent to it before then"
        )
        return WaitingOn(keys.rest.reason, keys.rest.until, detail)
    if subscription.rate_limit is not None:
        room = context.rate_room
        if room.requests == 0:
            return WaitingOn(
                "rate_limit",
                now + timedelta(seconds=room.rest.wait),
                f"the subscription's rate limit of {subscription.rate_limit}/s allows no request now",
            )
    slots = drain_slots(subscription)
    if keys is not None and keys.slots_held >= slots:
        return WaitingOn("in_flight_limit", None, f"all {slots} of the subscription's drains are busy; it is next")
    ahead = bisect.bisect_left(context.due_times, delivery.next_attempt_at)
    count = f"{QUEUE_COUNT_CAP} or more" if ahead >= QUEUE_COUNT_CAP else str(ahead)
    return WaitingOn("queued", None, f"due; {count} due deliveries of the subscription are ahead of it")


def _final_detail(delivery: Delivery) -> str:
    if delivery.status == Delivery.Status.SUCCEEDED:
        return f"succeeded: the endpoint answered {delivery.last_status_code}"
    return f"{delivery.status}: {delivery.last_error or 'no error recorded'}"

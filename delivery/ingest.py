"""Ingest and fan-out: store a batch of events and one delivery per matching subscription, atomically."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction

from config import tracing
from config.copy_insert import copy_rows
from config.errors import ApiError
from config.json_bytes import json_bytes
from delivery import counters, error_codes
from delivery.db_clock import database_now
from delivery.event_validation import event_card, event_errors
from delivery.models import Delivery, Event
from delivery.outgoing import export_shaped
from delivery.wakes import subscriptions_wake
from subscriptions.models import Subscription
from subscriptions.selectors import event_type_names, export_settings_of, subscriptions_for_fanout
from tenancy.models import Environment


class EventRow(NamedTuple):
    """An event to store, as its columns' values: rows are copied as they are, with no model instance each (building
    an Event and a Delivery per row and reading them back field by field was a third of ingest's CPU, measured)."""

    id: uuid.UUID
    environment_id: uuid.UUID
    event_id: str
    name: str
    card: str | None
    is_test: bool
    payload: dict
    received_at: datetime


class DeliveryRow(NamedTuple):
    id: uuid.UUID
    event_id: uuid.UUID
    subscription_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: datetime | None
    lease_expires_at: None
    last_status_code: None
    last_error: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    deliveries: int


def _validated(raw_events: list) -> None:
    if len(raw_events) > settings.OUTFLOW_MAX_BATCH:
        raise ApiError(
            error_codes.BATCH_TOO_LARGE,
            f"a batch holds at most {settings.OUTFLOW_MAX_BATCH} events",
            status_code=413,
        )
    if not raw_events:
        raise ApiError(error_codes.INVALID_EVENTS, "the batch holds no events")
    known = event_type_names()
    errors: dict[str, list[str]] = {}
    for index, event in enumerate(raw_events):
        if len(json_bytes(event)) > settings.OUTFLOW_MAX_EVENT_BYTES:
            raise ApiError(
                error_codes.EVENT_TOO_LARGE,
                f"event {index} is larger than {settings.OUTFLOW_MAX_EVENT_BYTES} bytes",
                status_code=413,
            )
        for field, problems in event_errors(event, known_names=known).items():
            errors[f"events[{index}].{field}"] = problems
    if errors:
        raise ApiError(
            error_codes.INVALID_EVENTS, "the batch was rejected whole: some events are invalid", fields=errors
        )


def _matches(subscription: Subscription, event: EventRow, include_test_events: bool) -> bool:
    return (
        event.name in subscription.event_type_names
        and (subscription.card is None or subscription.card == event.card)
        and (include_test_events or not event.is_test)
    )


def events_ingest(*, environment: Environment, raw_events: list) -> IngestResult:
    """Validate every event (all or nothing), store the new ones and their deliveries, wake their subscriptions."""
    with tracing.span("outflow.ingest") as span:
        result = _ingest(environment=environment, raw_events=raw_events)
        if span.is_recording():
            span.set_attributes(
                {
                    "outflow.environment_id": str(environment.pk),
                    "outflow.accepted": result.accepted,
                    "outflow.duplicates": result.duplicates,
                    "outflow.deliveries": result.deliveries,
                }
            )
    return result


def _ingest(*, environment: Environment, raw_events: list) -> IngestResult:
    _validated(raw_events)
    # Stamped by the clock the claim and the sweeper read (a web host whose clock runs ahead would make them wait),
    # a microsecond apart in the order the call gave them: the latest event, and the order a subscription is sent its
    # deliveries in (the claim's, oldest first), are the call's order.
    now = database_now()
    new_id = Event._meta.pk.get_default
    unique: dict[str, EventRow] = {}
    for raw in raw_events:
        if raw["id"] not in unique:
            unique[raw["id"]] = EventRow(
                id=new_id(),
                environment_id=environment.pk,
                event_id=raw["id"],
                name=raw["eventName"],
                card=event_card(raw),
                is_test=raw.get("test") is True,
                payload=raw,
                received_at=now + timedelta(microseconds=len(unique)),
            )
    try:
        events, due = _store(environment=environment, unique=unique, now=now, concurrent_duplicates=False)
    except IntegrityError:
        # Another call stored some of these event ids between the check and the insert: again, tolerating it.
        events, due = _store(environment=environment, unique=unique, now=now, concurrent_duplicates=True)
    return IngestResult(accepted=len(events), duplicates=len(raw_events) - len(events), deliveries=len(due))


def _store(
    *, environment: Environment, unique: dict[str, EventRow], now: datetime, concurrent_duplicates: bool
) -> tuple[list, list]:
    """Store the events not stored before and their deliveries in one transaction; their subscriptions are woken
    after commit.

    Events already stored are looked up first, so the new ones can be written with one COPY (the insert with
    ON CONFLICT that `bulk_create(ignore_conflicts=True)` makes cost four times its CPU); that COPY fails on
    an id another call stored meanwhile, and the caller comes back with `concurrent_duplicates`.
    """
    with transaction.atomic():
        if concurrent_duplicates:
            Event.objects.bulk_create([Event(**event._asdict()) for event in unique.values()], ignore_conflicts=True)
            inserted = set(
                Event.objects.filter(pk__in=[event.id for event in unique.values()]).values_list("pk", flat=True)
            )
            events = [event for event in unique.values() if event.id in inserted]
        else:
            stored = set(
                Event.objects.filter(environment=environment, event_id__in=list(unique)).values_list(
                    "event_id", flat=True
                )
            )
            events = [event for event_id, event in unique.items() if event_id not in stored]
            copy_rows(Event, events)
        deliveries = _fan_out(environment=environment, events=events, now=now)
        copy_rows(Delivery, deliveries)
        due = [delivery for delivery in deliveries if delivery.status == Delivery.Status.PENDING]
        counters.counters_add(amounts={counters.CREATED: len(deliveries), counters.SKIPPED: len(deliveries) - len(due)})
        woken = list(dict.fromkeys(delivery.subscription_id for delivery in due))
        transaction.on_commit(lambda: subscriptions_wake(subscription_ids=woken))
    return events, due


def _fan_out(*, environment: Environment, events: list[EventRow], now: datetime) -> list[DeliveryRow]:
    if not events:
        return []
    subscriptions = subscriptions_for_fanout(environment=environment, event_names={event.name for event in events})
    export = export_settings_of(environment=environment)
    include_test_events = export.include_test_events
    new_id = Delivery._meta.pk.get_default
    deliveries = []
    for event in events:
        shaped = None  # the event as filters see it: after export settings, as a delivery sends it
        for subscription in subscriptions:
            if not _matches(subscription, event, include_test_events):
                continue
            if subscription.filter_matcher is not None:
                shaped = shaped if shaped is not None else export_shaped(payload=event.payload, export=export)
                if not subscription.filter_matcher(shaped):
                    continue
            active = subscription.status == Subscription.Status.ACTIVE
            created_at = now + timedelta(microseconds=len(deliveries))
            deliveries.append(
                DeliveryRow(
                    id=new_id(),
                    event_id=event.id,
                    subscription_id=subscription.pk,
                    status=Delivery.Status.PENDING if active else Delivery.Status.SKIPPED,
                    attempts=0,
                    # Due in the order the events came in: a drain claims those due longest first.
                    next_attempt_at=created_at if active else None,
                    lease_expires_at=None,
                    last_status_code=None,
                    last_error="" if active else "subscription paused",
                    created_at=created_at,
                    updated_at=created_at,
                    completed_at=None if active else now,
                )
            )
    return deliveries

"""Attempting batches, called directly against a real receiver: the claim, each send, limits, the circuit, mapping."""

import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from delivery import attempts
from delivery.attempts import deliveries_claim
from delivery.in_flight import in_flight_slot_free, in_flight_slot_take, waiting_take
from delivery.ingest import events_ingest
from delivery.leases import slot_seconds
from delivery.models import Delivery
from delivery.waiting_batches import waiting_batch_pop, waiting_batch_push
from requestlog.models import RequestLog
from subscriptions.services import subscription_create, subscription_pause, subscription_update
from tests.delivery.steps import attempt, dead_subscription
from tests.factories import event


def test_a_claim_is_won_once(delivery):
    assert len(deliveries_claim(subscription=delivery.subscription, delivery_ids=[delivery.pk])) == 1
    assert deliveries_claim(subscription=delivery.subscription, delivery_ids=[delivery.pk]) == []
    claimed = Delivery.objects.get()
    assert claimed.status == Delivery.Status.SENDING and claimed.attempts == 1 and claimed.lease_expires_at


def test_a_claim_takes_only_the_subscriptions_due_deliveries_oldest_first_with_their_events(
    environment, subscription, receiver
):
    subscription_create(environment=environment, name="other", event_types=["card-completed"], url=receiver.url("/o"))
    sent = [event() for _ in range(3)]
    for one in sent:
        events_ingest(environment=environment, raw_events=[one])
    ours = list(Delivery.objects.filter(subscription=subscription).order_by("created_at"))
    Delivery.objects.filter(pk=ours[1].pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    claimed = deliveries_claim(
        subscription=subscription, delivery_ids=[str(pk) for pk in Delivery.objects.values_list("pk", flat=True)]
    )

    assert [d.pk for d in claimed] == [ours[0].pk, ours[2].pk]
    assert [d.payload for d in claimed] == [sent[0], sent[2]]
    assert all(d.attempts == 1 and d.subscription == subscription for d in claimed)
    assert Delivery.objects.filter(status=Delivery.Status.SENDING).count() == 2


def test_an_attempt_that_succeeds_is_logged(delivery, receiver):
    attempt(delivery)
    done = Delivery.objects.get()
    assert done.status == Delivery.Status.SUCCEEDED and done.last_status_code == 204 and done.completed_at
    log = RequestLog.objects.get()
    assert (log.attempt, log.response_status, log.delivery_id) == (1, 204, delivery.pk)
    assert log.request_headers["webhook-signature"] == "********"
    assert len(receiver.received("/hook")) == 1


def test_a_batch_sends_each_delivery_and_logs_each_attempt(environment, subscription, receiver):
    receiver.script("/hook", statuses=[200, 500, 202])
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    attempt(*Delivery.objects.order_by("created_at"))
    assert sorted(Delivery.objects.values_list("status", "last_status_code")) == [
        ("retrying", 500),
        ("succeeded", 200),
        ("succeeded", 202),
    ]
    assert RequestLog.objects.count() == 3 and len(receiver.received("/hook")) == 3


def test_a_stale_task_does_nothing(delivery, receiver):
    attempt(delivery)
    attempt(delivery)
    assert len(receiver.received("/hook")) == 1 and RequestLog.objects.count() == 1


def test_a_task_that_fires_before_the_retry_is_due_does_nothing(delivery, receiver):
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    attempt(delivery)
    assert receiver.received() == [] and Delivery.objects.get().attempts == 0


def test_no_answer_stops_the_batch_and_hands_back_the_rest_unattempted(environment, receiver):
    dead_subscription(environment)
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    attempt(*Delivery.objects.order_by("created_at"))

    deliveries = list(Delivery.objects.order_by("created_at"))
    assert [delivery.attempts for delivery in deliveries] == [1, 0, 0, 0, 0]
    assert {delivery.status for delivery in deliveries} == {"retrying", "pending"}
    # The failed one comes back as a countdown task (the probe); the rest wait as rows for the sweeper.
    assert [delivery.queued for delivery in deliveries] == [True, False, False, False, False]
    assert len({delivery.next_attempt_at for delivery in deliveries}) == 1
    assert RequestLog.objects.get().error.startswith("connection error")


def test_no_answer_on_a_last_attempt_opens_no_circuit_and_the_rest_go_again_at_once(environment, receiver):
    dead = dead_subscription(environment, max_retries=0, auto_disable=False)
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    attempt(*Delivery.objects.order_by("created_at"))

    failed, *rest = Delivery.objects.order_by("created_at")
    assert failed.status == Delivery.Status.FAILED
    assert all(d.status == Delivery.Status.PENDING and d.queued and d.attempts == 0 for d in rest)
    assert cache.get(f"outflow:circuit:{{{dead.pk}}}") is None


def _every_slot_taken(subscription_id, settings) -> list:
    taken = [
        in_flight_slot_take(subscription_id=subscription_id, seconds=slot_seconds())
        for _ in range(settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION)
    ]
    assert all(taken)
    return taken


def test_a_batch_that_finds_every_slot_taken_waits_for_one_in_flight_its_rows_untouched(delivery, receiver, settings):
    taken = _every_slot_taken(delivery.subscription_id, settings)
    try:
        attempt(delivery)
        waiting = Delivery.objects.get()
        assert receiver.received() == [] and waiting.status == Delivery.Status.PENDING
        assert waiting.queued and waiting.updated_at == delivery.updated_at
        assert waiting_batch_pop(subscription_id=delivery.subscription_id) == [str(delivery.pk)]
    finally:
        cache.delete_many([slot.key for slot in taken])


def test_a_finished_batch_sends_the_batches_that_waited_for_a_slot_in_its_own(
    environment, subscription, receiver, settings
):
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    first, *waiting = Delivery.objects.order_by("created_at")
    taken = _every_slot_taken(subscription.pk, settings)
    attempt(*waiting[:2])
    attempt(*waiting[2:])
    cache.delete_many([slot.key for slot in taken])

    attempt(first)

    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    sent = [received.headers["webhook-id"] for received in receiver.received("/hook")]
    assert sent == [str(delivery.pk) for delivery in (first, *waiting)]
    assert waiting_batch_pop(subscription_id=subscription.pk) == []
    assert not cache.get(f"outflow:in-flight:{subscription.pk}:0")


def test_batches_still_waiting_when_the_batch_time_is_spent_go_on_as_a_task(
    environment, subscription, receiver, settings, monkeypatch
):
    monkeypatch.setattr(attempts, "TAKE_ON_SECONDS", 0.5)
    receiver.script("/hook", statuses=[200], delay=0.3)
    events_ingest(environment=environment, raw_events=[event() for _ in range(7)])
    first, *waiting = Delivery.objects.order_by("created_at")
    enqueued = []
    monkeypatch.setattr(attempts, "deliveries_enqueue", lambda *, due: enqueued.append(list(due)))
    taken = _every_slot_taken(subscription.pk, settings)
    for one in waiting:
        attempt(one)
    cache.delete_many([slot.key for slot in taken])

    attempt(first)

    # Batches are taken on for 0.5 s: some of the six waiting ones went in the slot, the next as a task.
    sent = [received.headers["webhook-id"] for received in receiver.received("/hook")]
    taken_on = len(sent) - 1
    assert 1 <= taken_on < len(waiting) - 1
    assert sent == [str(delivery.pk) for delivery in (first, *waiting[:taken_on])]
    assert enqueued == [[(subscription.pk, str(waiting[taken_on].pk))]]
    left = [waiting_batch_pop(subscription_id=subscription.pk) for _ in waiting[taken_on + 1 :]]
    assert left == [[str(delivery.pk)] for delivery in waiting[taken_on + 1 :]]
    assert all(delivery.queued for delivery in Delivery.objects.filter(status=Delivery.Status.PENDING))


def test_a_batch_that_joins_the_waiting_ones_as_the_last_slot_frees_takes_it_and_goes(
    delivery, receiver, settings, monkeypatch
):
    taken = _every_slot_taken(delivery.subscription_id, settings)

    def push_as_the_slots_free(**kwargs):
        joined = waiting_batch_push(**kwargs)
        for slot in taken:
            in_flight_slot_free(slot=slot)
        return joined

    monkeypatch.setattr(attempts, "waiting_batch_push", push_as_the_slots_free)
    attempt(delivery)
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED
    assert waiting_batch_pop(subscription_id=delivery.subscription_id) == []


def _one_waiting_behind_a_free_slot(environment, subscription, settings, monkeypatch) -> tuple:
    """Two deliveries: the second waits for a slot (all were taken when it came), which is free again for the
    first; and the tasks the attempt hands on, as they would be sent."""
    events_ingest(environment=environment, raw_events=[event() for _ in range(2)])
    first, waiting = Delivery.objects.order_by("created_at")
    enqueued = []
    monkeypatch.setattr(attempts, "deliveries_enqueue", lambda *, due: enqueued.append(list(due)))
    taken = _every_slot_taken(subscription.pk, settings)
    attempt(waiting)
    cache.delete_many([slot.key for slot in taken])
    return first, waiting, enqueued


def test_a_taken_on_batch_that_fails_does_not_fail_the_task_and_its_rows_stay_queued(
    environment, subscription, receiver, settings, monkeypatch, caplog
):
    first, waiting, _ = _one_waiting_behind_a_free_slot(environment, subscription, settings, monkeypatch)
    batch_run = attempts._batch_run

    def failing_after_the_first(**kwargs):
        if kwargs["delivery_ids"] != [first.pk]:
            raise RuntimeError("broken")
        return batch_run(**kwargs)

    monkeypatch.setattr(attempts, "_batch_run", failing_after_the_first)
    attempt(first)
    assert Delivery.objects.get(pk=first.pk).status == Delivery.Status.SUCCEEDED
    left = Delivery.objects.get(pk=waiting.pk)
    assert left.status == Delivery.Status.PENDING and left.queued and left.attempts == 0
    assert "a batch taken on from those waiting failed" in caplog.text


def test_a_batch_that_fails_still_hands_on_the_batches_waiting_for_its_slot(
    environment, subscription, receiver, settings, monkeypatch
):
    first, waiting, enqueued = _one_waiting_behind_a_free_slot(environment, subscription, settings, monkeypatch)

    def failing(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(attempts, "_batch_run", failing)
    with pytest.raises(RuntimeError):
        attempt(first)
    assert enqueued == [[(subscription.pk, str(waiting.pk))]]
    assert not cache.get(f"outflow:in-flight:{subscription.pk}:0")


def test_a_worker_shutting_down_takes_on_no_waiting_batch_and_hands_it_on(
    environment, subscription, receiver, settings, monkeypatch
):
    first, waiting, enqueued = _one_waiting_behind_a_free_slot(environment, subscription, settings, monkeypatch)
    monkeypatch.setattr(attempts, "_stopping", threading.Event())
    attempts.taking_on_stop()

    attempt(first)

    assert [received.headers["webhook-id"] for received in receiver.received("/hook")] == [str(first.pk)]
    assert enqueued == [[(subscription.pk, str(waiting.pk))]]


def test_a_batch_whose_slot_was_lost_takes_on_no_waiting_batch(
    environment, subscription, receiver, settings, monkeypatch
):
    first, waiting, enqueued = _one_waiting_behind_a_free_slot(environment, subscription, settings, monkeypatch)
    batch_run = attempts._batch_run

    def then_the_slot_expires_and_another_takes_it(*, slot, **kwargs):
        held_back = batch_run(slot=slot, **kwargs)
        cache.set(slot.key, "another batch", timeout=30)
        return held_back

    monkeypatch.setattr(attempts, "_batch_run", then_the_slot_expires_and_another_takes_it)
    attempt(first)

    assert [received.headers["webhook-id"] for received in receiver.received("/hook")] == [str(first.pk)]
    assert enqueued == [[(subscription.pk, str(waiting.pk))]]
    assert cache.get(f"outflow:in-flight:{subscription.pk}:0") == "another batch"


def test_a_taken_on_batch_the_rate_limit_holds_back_leaves_the_rest_waiting_as_rows(environment, receiver, settings):
    limited = subscription_create(
        environment=environment, name="limited", event_types=["card-completed"], url=receiver.url("/hook"), rate_limit=1
    )
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    first, *held, last = Delivery.objects.order_by("created_at")
    taken = _every_slot_taken(limited.pk, settings)
    attempt(*held)
    attempt(last)
    cache.delete_many([slot.key for slot in taken])

    attempt(first)

    assert len(receiver.received("/hook")) == 1
    parked = Delivery.objects.get(pk=last.pk)
    assert parked.status == Delivery.Status.PENDING and not parked.queued and parked.attempts == 0
    # Parked as it was, not tried in turn behind the held one (which would have put it off to a later time).
    assert parked.next_attempt_at == last.next_attempt_at
    assert waiting_batch_pop(subscription_id=limited.pk) == []


def test_batches_waiting_behind_one_the_rate_limit_held_back_wait_as_rows(environment, receiver, settings):
    limited = subscription_create(
        environment=environment, name="limited", event_types=["card-completed"], url=receiver.url("/hook"), rate_limit=1
    )
    events_ingest(environment=environment, raw_events=[event() for _ in range(4)])
    first, second, *waiting = Delivery.objects.order_by("created_at")
    taken = _every_slot_taken(limited.pk, settings)
    attempt(*waiting)
    cache.delete_many([slot.key for slot in taken])

    attempt(first, second)

    assert len(receiver.received("/hook")) == 1
    parked = Delivery.objects.filter(pk__in=[delivery.pk for delivery in waiting])
    assert all(d.status == Delivery.Status.PENDING and not d.queued and d.attempts == 0 for d in parked)
    assert waiting_batch_pop(subscription_id=limited.pk) == []
    assert waiting_take(subscription_id=limited.pk)


def test_without_redis_a_batch_that_finds_every_slot_taken_waits_as_rows(
    environment, subscription, receiver, settings, django_capture_on_commit_callbacks
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rows"}}
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    first, *waiting = Delivery.objects.order_by("created_at")
    taken = _every_slot_taken(subscription.pk, settings)
    attempt(*waiting)
    parked = Delivery.objects.filter(pk__in=[delivery.pk for delivery in waiting])
    assert receiver.received() == [] and not any(parked.values_list("queued", flat=True))
    for slot in taken:
        in_flight_slot_free(slot=slot)

    with django_capture_on_commit_callbacks() as published:
        attempt(first)

    assert all(delivery.queued and delivery.status == Delivery.Status.PENDING for delivery in parked)
    assert len(published) == 1


def test_a_batch_that_runs_out_of_time_hands_back_the_rest_due_now(environment, subscription, receiver, settings):
    settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS = 0.5
    receiver.script("/hook", statuses=[200], delay=0.35)
    events_ingest(environment=environment, raw_events=[event() for _ in range(6)])
    attempt(*Delivery.objects.order_by("created_at"))
    statuses = list(Delivery.objects.order_by("created_at").values_list("status", flat=True))
    sent = statuses.count("succeeded")
    assert 1 <= sent < 6 and statuses[sent:] == ["pending"] * (6 - sent)
    assert Delivery.objects.filter(status="pending", next_attempt_at__lte=timezone.now()).count() == 6 - sent


def test_a_delivery_for_a_paused_subscription_is_skipped_at_its_attempt(delivery, subscription, receiver):
    subscription_pause(subscription=subscription, reason="test")
    attempt(delivery)
    skipped = Delivery.objects.get()
    assert skipped.status == Delivery.Status.SKIPPED and skipped.attempts == 0
    assert receiver.received() == []


def test_no_answer_opens_the_circuit_so_later_batches_wait_without_sending(environment, receiver):
    dead = dead_subscription(environment)
    events_ingest(environment=environment, raw_events=[event()])
    attempt(Delivery.objects.get())
    failed = Delivery.objects.get()
    assert failed.status == Delivery.Status.RETRYING and RequestLog.objects.count() == 1

    events_ingest(environment=environment, raw_events=[event()])
    later = Delivery.objects.get(status=Delivery.Status.PENDING)
    attempt(later)

    waiting = Delivery.objects.get(pk=later.pk)
    assert waiting.status == Delivery.Status.PENDING and waiting.attempts == 0 and not waiting.queued
    assert waiting.next_attempt_at == failed.next_attempt_at
    assert RequestLog.objects.count() == 1
    cache.delete(f"outflow:circuit:{{{dead.pk}}}")


def test_a_mapping_that_overruns_its_limit_fails_for_good(delivery, subscription, receiver, settings):
    # It had the CPU all along, so no second run: only a run the machine kept from the CPU gets one (mapping tests).
    settings.OUTFLOW_MAPPING_TIMEOUT_MS = 50
    subscription_update(subscription=subscription, mapping="while (true) {}")
    attempt(delivery)
    failed = Delivery.objects.get()
    assert failed.status == Delivery.Status.FAILED and failed.attempts == 1
    assert failed.last_error == "mapping error: the script ran longer than the limit of 50 ms"
    assert receiver.received() == []

"""Attempting claimed batches through the drain, against a real receiver: each send, the log, the circuit, mapping."""

from datetime import timedelta

from django.utils import timezone

from delivery.coordination import coordination
from delivery.ingest import events_ingest
from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.services import subscription_pause, subscription_update
from tests.delivery.steps import attempt, dead_subscription
from tests.factories import event


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


def test_a_drain_with_nothing_due_sends_nothing(delivery, receiver):
    attempt(delivery)
    attempt(delivery)
    assert len(receiver.received("/hook")) == 1 and RequestLog.objects.count() == 1


def test_a_retry_not_yet_due_is_not_sent(delivery, receiver):
    Delivery.objects.update(status=Delivery.Status.RETRYING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    attempt(delivery)
    assert receiver.received() == [] and Delivery.objects.get().attempts == 0


def test_no_answer_stops_the_batch_opens_the_circuit_and_hands_back_the_rest_unattempted(
    environment, receiver, settings
):
    settings.OUTFLOW_RETRY_BASE_SECONDS = 30
    dead = dead_subscription(environment)
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    attempt(*Delivery.objects.order_by("created_at"))

    deliveries = list(Delivery.objects.order_by("created_at"))
    assert [delivery.attempts for delivery in deliveries] == [1, 0, 0, 0, 0]
    assert [delivery.status for delivery in deliveries] == ["retrying"] + ["pending"] * 4
    # The rest are due as they were: the circuit, not their rows, holds them until the failed one's retry.
    assert all(delivery.next_attempt_at <= timezone.now() for delivery in deliveries[1:])
    rest = coordination().rest(subscription_id=dead.pk)
    assert rest.reason == "endpoint_unreachable"
    assert abs((rest.until - deliveries[0].next_attempt_at).total_seconds()) < 0.01
    assert RequestLog.objects.get().error.startswith("connection error")


def test_an_open_circuit_holds_the_drain_without_sending(environment, receiver, settings):
    settings.OUTFLOW_RETRY_BASE_SECONDS = 30
    dead_subscription(environment)
    events_ingest(environment=environment, raw_events=[event()])
    attempt(Delivery.objects.get())
    events_ingest(environment=environment, raw_events=[event()])
    later = Delivery.objects.get(status=Delivery.Status.PENDING)

    attempt(later)

    waiting = Delivery.objects.get(pk=later.pk)
    assert waiting.status == Delivery.Status.PENDING and waiting.attempts == 0
    assert RequestLog.objects.count() == 1


def test_no_answer_on_a_last_attempt_opens_no_circuit_and_the_rest_stay_due(environment, receiver):
    dead = dead_subscription(environment, max_retries=0, auto_disable=False)
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    attempt(*Delivery.objects.order_by("created_at"))

    statuses = list(Delivery.objects.order_by("created_at").values_list("status", "attempts"))
    assert statuses[0] == ("failed", 1)
    assert coordination().rest(subscription_id=dead.pk) is None


def test_a_batch_that_runs_out_of_time_hands_back_the_rest_due_now(environment, subscription, receiver, settings):
    settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS = 0.5
    settings.OUTFLOW_DRAIN_SLICE_SECONDS = 0
    receiver.script("/hook", statuses=[200], delay=0.35)
    events_ingest(environment=environment, raw_events=[event() for _ in range(6)])
    attempt(*Delivery.objects.order_by("created_at"))
    statuses = list(Delivery.objects.order_by("created_at").values_list("status", flat=True))
    sent = statuses.count("succeeded")
    assert 1 <= sent < 6 and statuses[sent:] == ["pending"] * (6 - sent)
    assert (
        Delivery.objects.filter(status="pending", attempts=0, next_attempt_at__lte=timezone.now()).count() == 6 - sent
    )


def test_a_delivery_for_a_paused_subscription_is_skipped_at_its_attempt(delivery, subscription, receiver):
    subscription_pause(subscription=subscription, reason="test")
    attempt(delivery)
    skipped = Delivery.objects.get()
    assert skipped.status == Delivery.Status.SKIPPED and skipped.attempts == 0
    assert receiver.received() == []


def test_a_mapping_that_overruns_its_limit_fails_for_good(delivery, subscription, receiver, settings):
    # It had the CPU all along, so no second run: only a run the machine kept from the CPU gets one (mapping tests).
    settings.OUTFLOW_MAPPING_TIMEOUT_MS = 50
    subscription_update(subscription=subscription, mapping="while (true) {}")
    attempt(delivery)
    failed = Delivery.objects.get()
    assert failed.status == Delivery.Status.FAILED and failed.attempts == 1
    assert failed.last_error == "mapping error: the script ran longer than the limit of 50 ms"
    assert receiver.received() == []

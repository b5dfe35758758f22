"""Tracing in one process (config/tracing.py and the spans of ingest and attempts): the in-memory exporter's spans,
their parents and attributes, the traceparent a subscription asks for, and no payload, header value or secret."""

import pytest
from celery import signals
from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from config import tracing
from delivery.coordination import coordination
from delivery.drain import subscription_drain
from delivery.models import Delivery
from delivery.sweeper import deliveries_sweep
from delivery.wakes import DRAIN_TASK
from requestlog.models import RequestLog
from tests import secrets
from tests.factories import event, subscription_payload
from tests.span_capture import named, span_texts, spans_recorded

PAYLOAD_MARKER = "pl-Ee77-payload-marker"
QUERY_TOKEN = "qs-Tt12-url-query-token"
PATH_TOKEN = "ps-Hh33-path-token"


@pytest.fixture
def spans():
    with spans_recorded() as exporter:
        yield exporter


@pytest.fixture
def published():
    """The drain tasks published meanwhile: (headers, args) as the broker got them."""
    sent: list[tuple[dict, tuple]] = []

    def capture(sender=None, headers=None, body=None, **kwargs):
        if sender == DRAIN_TASK:
            sent.append((dict(headers), tuple(body[0])))

    signals.after_task_publish.connect(capture, weak=False)
    yield sent
    signals.after_task_publish.disconnect(capture)


def _subscribe(api, url: str, **fields) -> dict:
    response = api.post("/api/v1/subscriptions", subscription_payload(url, **fields), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _ingest_committed(api, django_capture_on_commit_callbacks, spans, *events, **headers) -> None:
    """Ingest through the API. The test's transaction never commits, so the tasks are sent as the commit inside the
    ingest call sends them: in the context of its span."""
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post("/api/v1/events", {"events": list(events)}, format="json", **headers)
    assert response.status_code == 202, response.json()
    [ingest] = named(spans.get_finished_spans(), "outflow.ingest")[-1:]
    token = context.attach(trace.set_span_in_context(trace.NonRecordingSpan(ingest.context)))
    try:
        for callback in callbacks:
            callback()
    finally:
        context.detach(token)


def _attempt_as_worker(published) -> None:
    """Each published task's drain, in the context its headers carry, as the Celery instrumentation sets it."""
    for headers, (subscription_id,) in published:
        token = context.attach(TraceContextTextMapPropagator().extract(headers))
        try:
            subscription_drain(subscription_id=subscription_id)
        finally:
            context.detach(token)


def _wakes_forgotten() -> None:
    for subscription_id in Delivery.objects.values_list("subscription_id", flat=True).distinct():
        coordination().wake_clear(subscription_id=subscription_id)


def _traceparent(span) -> str:
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{span.context.trace_flags:02x}"


def _credentials(api, receiver) -> list[str]:
    receiver.script("/token", statuses=[200], body=f'{{"access_token": "{secrets.ACCESS_TOKEN}"}}'.encode())
    payloads = secrets.credential_payloads(token_url=receiver.url("/token"), oauth_request_scheme="url")
    ids = []
    for payload in payloads:
        response = api.post("/api/v1/credentials", {"name": payload["type"], **payload}, format="json")
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])
    return ids


def test_one_trace_from_ingest_through_each_attempt_with_no_payload_or_secret(
    spans, published, api, environment, receiver, django_capture_on_commit_callbacks
):
    url = receiver.url(f"/hook/{PATH_TOKEN}?token={QUERY_TOKEN}")
    subscriptions = [
        _subscribe(api, url, name=f"sink {index}", credential=credential, headers={"X-Api-Key": secrets.HEADER_SECRET})
        for index, credential in enumerate(_credentials(api, receiver))
    ]
    # A script whose error quotes the event: the request log keeps the message, no span may.
    failing = _subscribe(api, url, name="failing map", mapping="throw new Error('no ' + event.endUserId);")
    signing_secrets = [
        api.get(f"/api/v1/subscriptions/{subscription['id']}/secret").json()["secret"]
        for subscription in [*subscriptions, failing]
    ]
    sent = event(endUserId=PAYLOAD_MARKER, requestPayload={"campaign": PAYLOAD_MARKER})

    _ingest_committed(api, django_capture_on_commit_callbacks, spans, sent)
    _attempt_as_worker(published)

    delivered = [request for request in receiver.received() if request.path.startswith(f"/hook/{PATH_TOKEN}?")]
    assert len(delivered) == 3
    assert PAYLOAD_MARKER in RequestLog.objects.get(subscription_id=failing["id"]).error
    finished = spans.get_finished_spans()
    [ingest] = named(finished, "outflow.ingest")
    [server] = [span for span in finished if span.context.span_id == ingest.parent.span_id]
    publishes = named(finished, f"apply_async/{DRAIN_TASK}")
    claims, mappings = named(finished, "outflow.claim"), named(finished, "outflow.mapping")
    requests = named(finished, "outflow.request")
    # Each drain claims its one delivery; a claim short of its limit ends the drain.
    assert [span.attributes["outflow.claimed"] for span in claims] == [1] * 4
    assert len(publishes) == len(mappings) == 4 and len(requests) == 3
    assert server.kind == SpanKind.SERVER and server.attributes["http.method"] == "POST"
    assert {span.context.trace_id for span in [ingest, *publishes, *claims, *mappings, *requests]} == {
        server.context.trace_id
    }
    assert {span.parent.span_id for span in publishes} == {ingest.context.span_id}
    assert {span.parent.span_id for span in [*claims, *mappings, *requests]} <= {
        span.context.span_id for span in publishes
    }
    assert ingest.attributes["outflow.accepted"] == 1 and ingest.attributes["outflow.deliveries"] == 4

    deliveries = {str(delivery.pk): delivery for delivery in Delivery.objects.all()}
    for request in requests:
        attributes = request.attributes
        delivery = deliveries[attributes["outflow.delivery_id"]]
        assert attributes["outflow.subscription_id"] == str(delivery.subscription_id)
        assert attributes["outflow.attempt"] == 1 and attributes["http.response.status_code"] == 204
        assert attributes["server.address"] == "127.0.0.1" and attributes["url.scheme"] == "http"
        assert request.kind == SpanKind.CLIENT and request.status.status_code != StatusCode.ERROR
    [failed_mapping] = [span for span in mappings if span.attributes["outflow.failed"]]
    assert failed_mapping.attributes["outflow.subscription_id"] == failing["id"]

    needles = [
        PAYLOAD_MARKER,
        QUERY_TOKEN,
        PATH_TOKEN,
        environment.api_key,
        *secrets.ALL,
        *signing_secrets,
        *(secret.removeprefix("whsec_") for secret in signing_secrets),
        "X-Amz-Signature",
        "Basic ",
    ]
    signatures = [request.headers["webhook-signature"] for request in delivered]
    for span in finished:
        text = "\n".join(span_texts(span))
        for needle in [*needles, *signatures]:
            assert needle not in text, (span.name, needle)


def test_traceparent_is_sent_only_to_a_subscription_that_asks(
    spans, published, api, receiver, django_capture_on_commit_callbacks
):
    _subscribe(api, receiver.url("/traced"), send_traceparent=True)
    _subscribe(api, receiver.url("/plain"))

    _ingest_committed(api, django_capture_on_commit_callbacks, spans, event())
    _attempt_as_worker(published)

    [traced] = receiver.received("/traced")
    [plain] = receiver.received("/plain")
    assert "traceparent" not in plain.headers
    [request] = [
        span
        for span in named(spans.get_finished_spans(), "outflow.request")
        if span.attributes["outflow.delivery_id"] == traced.headers["webhook-id"]
    ]
    assert traced.headers["traceparent"] == _traceparent(request)


def test_a_custom_traceparent_header_gives_way_to_the_request_span(
    spans, published, api, receiver, django_capture_on_commit_callbacks
):
    stale = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    _subscribe(api, receiver.url("/traced"), send_traceparent=True, headers={"Traceparent": stale})

    _ingest_committed(api, django_capture_on_commit_callbacks, spans, event())
    _attempt_as_worker(published)

    [traced] = receiver.received("/traced")
    [request] = named(spans.get_finished_spans(), "outflow.request")
    assert traced.headers["traceparent"] == _traceparent(request)


def test_with_tracing_off_nothing_is_traced_and_no_traceparent_is_sent(api, receiver, attempt_pending):
    _subscribe(api, receiver.url("/traced"), send_traceparent=True)
    api.post("/api/v1/events", event(), format="json")

    with tracing.span("outflow.request") as span:
        assert not span.is_recording()
        assert tracing.traceparent_header() == {}
    attempt_pending()

    [traced] = receiver.received("/traced")
    assert "traceparent" not in traced.headers


def test_a_failed_request_is_an_error_span_with_its_status_only(
    spans, published, api, receiver, django_capture_on_commit_callbacks
):
    receiver.script("/down", statuses=[500], body=PAYLOAD_MARKER.encode())
    _subscribe(api, receiver.url("/down"))

    _ingest_committed(api, django_capture_on_commit_callbacks, spans, event())
    _attempt_as_worker(published)

    [request] = named(spans.get_finished_spans(), "outflow.request")
    assert request.status.status_code == StatusCode.ERROR and request.status.description is None
    assert request.attributes["http.response.status_code"] == 500 and request.attributes["error.type"] == "500"
    assert all(PAYLOAD_MARKER not in text for text in span_texts(request))


def test_tasks_the_sweeper_sends_carry_a_trace_of_their_own(
    spans, published, api, receiver, django_capture_on_commit_callbacks
):
    _subscribe(api, receiver.url("/hook"))
    _ingest_committed(api, django_capture_on_commit_callbacks, spans, event())
    [ingest] = named(spans.get_finished_spans(), "outflow.ingest")
    published.clear()
    # Its wake lost: the sweeper wakes the subscription again.
    _wakes_forgotten()

    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep()["woken"] == 1
    _attempt_as_worker(published)

    finished = spans.get_finished_spans()
    [sweeper_sent] = named(finished, f"apply_async/{DRAIN_TASK}")[1:]
    [(headers, _)] = published
    assert sweeper_sent.parent is None and sweeper_sent.context.trace_id != ingest.context.trace_id
    assert headers["traceparent"] == _traceparent(sweeper_sent)
    [request] = named(finished, "outflow.request")
    assert request.context.trace_id == sweeper_sent.context.trace_id


def test_a_callers_traceparent_is_a_link_not_the_parent_and_its_baggage_goes_nowhere(
    spans, published, api, receiver, django_capture_on_commit_callbacks
):
    _subscribe(api, receiver.url("/hook"))
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    _ingest_committed(
        api,
        django_capture_on_commit_callbacks,
        spans,
        event(),
        HTTP_TRACEPARENT=caller,
        HTTP_BAGGAGE="tenant=someone-else",
    )

    server = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER][-1]
    # A trace of Outflow's own, its sampling Outflow's: the caller's span is only linked.
    assert server.parent is None and server.context.trace_id != 0x0AF7651916CD43DD8448EB211C80319C
    [link] = server.links
    assert (link.context.trace_id, link.context.span_id) == (0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331)
    [(headers, _)] = published
    assert headers["traceparent"].split("-")[1] == f"{server.context.trace_id:032x}"
    assert "baggage" not in headers and all("someone-else" not in str(value) for value in headers.values())


def test_the_sweepers_wake_ups_of_two_tenants_share_no_trace(
    spans, published, api, other_api, receiver, django_capture_on_commit_callbacks
):
    _subscribe(api, receiver.url("/hook"))
    _subscribe(other_api, receiver.url("/other"))
    for client in (api, other_api):
        with django_capture_on_commit_callbacks():
            assert client.post("/api/v1/events", {"events": [event()]}, format="json").status_code == 202
    published.clear()
    _wakes_forgotten()

    # Inside a span of its own caller's, which its wakes must not join.
    with tracing.span("run/sweep"), django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep()["woken"] == 2

    [first, second] = [headers["traceparent"].split("-")[1] for headers, _ in published]
    [sweep] = named(spans.get_finished_spans(), "run/sweep")
    assert first != second and f"{sweep.context.trace_id:032x}" not in (first, second)

"""End to end, traced: ingest through the API in this process, a real worker exporting OTLP over HTTP to a collector
on loopback (decoded with opentelemetry-proto), and the traceparent at the real receiver."""

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from delivery.wakes import DRAIN_TASK
from tests import leak_watch, secrets
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event
from tests.receiver import Receiver
from tests.span_capture import named, spans_recorded
from tests.worker import CeleryProcesses

pytestmark = pytest.mark.e2e

PAYLOAD_MARKER = "pl-Wq61-payload-marker"


@pytest.fixture
def collector():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def traced_worker(celery_processes, transactional_db, catalog, collector):
    """A worker exporting to the collector, in the session worker's place (so that it takes every task), beside
    the session's beat. Retries wait as rows, so the sweeper sends them."""
    if celery_processes.worker.poll() is None:
        celery_processes.worker.terminate()
        celery_processes.worker.wait(timeout=30)
    processes = CeleryProcesses(
        {
            **celery_processes.environment,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.base_url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS": "0",
        }
    )
    leak_watch.watch_logs_in(processes.directory)
    processes.start_worker()
    yield processes
    processes.stop()


@pytest.fixture
def spans():
    with spans_recorded() as exporter:
        yield exporter


def _exported(collector) -> list:
    """Every span the worker exported, decoded."""
    found = []
    for request in collector.received("/v1/traces"):
        for resource_spans in ExportTraceServiceRequest.FromString(request.body).resource_spans:
            for scope_spans in resource_spans.scope_spans:
                found.extend(scope_spans.spans)
    return found


def _attribute(span, key: str):
    for attribute in span.attributes:
        if attribute.key == key:
            value = attribute.value
            return getattr(value, value.WhichOneof("value"))
    return None


def _requests(collector) -> list:
    return [span for span in _exported(collector) if span.name == "outflow.request"]


def test_one_trace_from_ingest_to_each_attempt_and_traceparent_only_where_asked(
    traced_worker, spans, api, environment, receiver, collector
):
    credential = api.post(
        "/api/v1/credentials",
        {"name": "basic", "type": "basic_auth", "username": "u", "password": secrets.PASSWORD},
        format="json",
    ).json()
    traced = subscribe(
        api,
        receiver,
        "/traced",
        send_traceparent=True,
        credential=credential["id"],
        headers={"X-Api-Key": secrets.HEADER_SECRET},
    )
    receiver.script("/plain", statuses=[500, 204])
    plain = subscribe(api, receiver, "/plain")
    signing_secret = api.get(f"/api/v1/subscriptions/{traced['id']}/secret").json()["secret"]

    ingest(api, event(endUserId=PAYLOAD_MARKER, requestPayload={"campaign": PAYLOAD_MARKER}))

    [arrived] = receiver.wait_for(1, "/traced")
    first, retried = receiver.wait_for(2, "/plain")
    wait_until(lambda: len(_requests(collector)) >= 3)
    ingested = spans.get_finished_spans()
    [ingest_span] = named(ingested, "outflow.ingest")
    trace_id = ingest_span.context.trace_id.to_bytes(16, "big")
    publishes = {span.context.span_id.to_bytes(8, "big") for span in named(ingested, f"apply_async/{DRAIN_TASK}")}
    assert len(publishes) == 2

    exported = _exported(collector)
    runs = [span for span in exported if span.name == f"run/{DRAIN_TASK}" and span.trace_id == trace_id]
    assert {run.parent_span_id for run in runs} == publishes
    run_ids = {run.span_id for run in runs}
    in_trace = [span for span in exported if span.trace_id == trace_id and span.parent_span_id in run_ids]
    # Each drain claims its delivery; a claim short of its limit ends the drain.
    assert sorted(span.name for span in in_trace if span.name.startswith("outflow.")) == [
        "outflow.claim",
        "outflow.claim",
        "outflow.mapping",
        "outflow.mapping",
        "outflow.request",
        "outflow.request",
    ]
    # psycopg's spans: the claim's statement under the claim.
    claims = {span.span_id for span in in_trace if span.name == "outflow.claim"}
    assert any(_attribute(span, "db.system") == "postgresql" for span in exported if span.parent_span_id in claims)

    requests = {
        _attribute(span, "outflow.subscription_id"): span for span in in_trace if span.name == "outflow.request"
    }
    traced_request, plain_request = requests[traced["id"]], requests[plain["id"]]
    assert _attribute(traced_request, "outflow.delivery_id") == arrived.headers["webhook-id"]
    assert _attribute(traced_request, "outflow.attempt") == 1
    assert _attribute(traced_request, "http.response.status_code") == 204
    assert _attribute(plain_request, "http.response.status_code") == 500
    version, header_trace, header_parent, _ = arrived.headers["traceparent"].split("-")
    assert (version, header_trace, header_parent) == ("00", trace_id.hex(), traced_request.span_id.hex())
    assert "traceparent" not in first.headers and "traceparent" not in retried.headers

    # The retry waited as a row: the sweeper woke its subscription in a trace of that wake's own (the sweeper wakes
    # many tenants' subscriptions), not its ingest's.
    [retry_request] = [span for span in _requests(collector) if _attribute(span, "outflow.attempt") == 2]
    assert retry_request.trace_id != trace_id
    root = retry_request
    while root.parent_span_id:
        wait_until(lambda parent=root.parent_span_id: parent in {span.span_id for span in _exported(collector)})
        root = next(span for span in _exported(collector) if span.span_id == root.parent_span_id)
    # Woken by a sweeper: this worker's (its wake's publish is the root) or the notifier's, which is not traced.
    assert root.name in (f"apply_async/{DRAIN_TASK}", f"run/{DRAIN_TASK}") and root.trace_id != trace_id

    text = "\n".join(str(ExportTraceServiceRequest.FromString(request.body)) for request in collector.received())
    for needle in [
        PAYLOAD_MARKER,
        environment.api_key,
        signing_secret,
        signing_secret.removeprefix("whsec_"),
        *secrets.ALL,
    ]:
        assert needle not in text, needle

"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; started once per web, worker or command."""

import contextlib
import os

from opentelemetry import context, propagate, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# With tracing off, every span is this one shared context manager: the API's no-op tracer cost ~18 µs a span (a
# generator, and a context variable set and reset), this ~1.3 µs (bench/tracing_cost.py, on a loaded 2-core machine).
_OFF = contextlib.nullcontext(trace.INVALID_SPAN)
_TRACEPARENT = TraceContextTextMapPropagator()

_provider = None
_tracer: trace.Tracer | None = None
_propagator_before = None


def span(name: str, *, kind: trace.SpanKind = trace.SpanKind.INTERNAL):
    """A span of Outflow's own as the current one, for a `with`; set attributes where `span.is_recording()`, so
    that nothing is built for them while tracing is off."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(name, kind=kind)


def traceparent_header() -> dict[str, str]:
    """The W3C traceparent of the current span, as a header; none while tracing is off. Never `tracestate` or
    baggage: what a caller of ingest put there is not the receiver's to read."""
    if _tracer is None:
        return {}
    carrier: dict[str, str] = {}
    _TRACEPARENT.inject(carrier)
    return {"traceparent": carrier["traceparent"]} if "traceparent" in carrier else {}


@contextlib.contextmanager
def traces_of_their_own():
    """Work started inside starts traces of its own, rather than joining the current one: the sweeper wakes many
    tenants' deliveries in one run, and a subscription that asks for traceparent must not be sent a trace id shared
    with other tenants' work."""
    if _tracer is None:
        yield
        return
    token = context.attach(context.Context())
    try:
        yield
    finally:
        context.detach(token)


def tracing_start(*, service_name: str, span_processor=None) -> bool:
    """With OTEL_EXPORTER_OTLP_ENDPOINT set, export spans in batches over OTLP/HTTP and instrument Django, Celery
    and psycopg; a span processor given (the tests', the bench's) takes the exporter's place. Whether tracing is on.

    The SDK is imported only here, so a process without tracing never loads it. The provider is not made the API's
    global one: everything traced is handed it, so a test or the bench can start and stop tracing in one process.
    """
    global _provider, _tracer, _propagator_before
    if _provider is not None:
        return True
    if span_processor is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    from config.trace_propagation import OwnProcessesOnly, caller_linked

    if span_processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        # The exporter reads the endpoint (adding /v1/traces), headers, timeout and compression from OTEL_*.
        span_processor = BatchSpanProcessor(OTLPSpanExporter())
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(span_processor)
    _propagator_before = propagate.get_global_textmap()
    propagate.set_global_textmap(OwnProcessesOnly())
    DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=caller_linked)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    # Statements only, never their parameters (the instrumentation's default): a parameter may be a payload.
    PsycopgInstrumentor().instrument(tracer_provider=provider)
    _tracer = provider.get_tracer("outflow")
    _provider = provider
    return True


def tracing_stop() -> None:
    """Export what is left and take the instrumentation off again (the tests' and the bench's; a process that
    started tracing otherwise keeps it until it exits)."""
    global _provider, _tracer
    if _provider is None:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    DjangoInstrumentor().uninstrument()
    CeleryInstrumentor().uninstrument()
    PsycopgInstrumentor().uninstrument()
    _tracer = None
    _provider.shutdown()
    _provider = None
    propagate.set_global_textmap(_propagator_before)

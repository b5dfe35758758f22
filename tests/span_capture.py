"""Tracing as the tests see it: started with the SDK's in-memory exporter, and every text a finished span carries."""

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from config.tracing import tracing_start, tracing_stop


@contextmanager
def spans_recorded() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process (Django, Celery and psycopg instrumented, Outflow's own spans) while inside."""
    exporter = InMemorySpanExporter()
    assert tracing_start(service_name="outflow-tests", span_processor=SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        tracing_stop()


def span_texts(span: ReadableSpan) -> list[str]:
    """Everything a span says, as an exporter would send it: name, attributes, events, links, status, resource."""
    texts = [span.name, span.status.description or ""]
    attribute_sets = [span.attributes, span.resource.attributes]
    attribute_sets += [event.attributes for event in span.events]
    attribute_sets += [link.attributes for link in span.links]
    texts += [event.name for event in span.events]
    for attributes in attribute_sets:
        for key, value in (attributes or {}).items():
            texts += [key, str(value)]
    return texts


def named(spans, name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]

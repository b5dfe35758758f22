"""How trace context crosses into Outflow: only between its own processes, never from an HTTP caller (loaded by
config.tracing once tracing is on)."""

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.wsgi import WSGIGetter, wsgi_getter
from opentelemetry.propagators.textmap import default_getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_TRACEPARENT = TraceContextTextMapPropagator()


class OwnProcessesOnly(TraceContextTextMapPropagator):
    """W3C trace context between Outflow's own processes (the web's and the sweeper's tasks to the worker, in Celery's
    headers), never from an HTTP caller, and no baggage: a caller's traceparent would choose the trace id and the
    sampling of the work its call causes, and its baggage would ride every task. Each request starts a trace of its
    own, with the caller's span as a link (`caller_linked`)."""

    def extract(self, carrier, context=None, getter=default_getter):
        if isinstance(getter, WSGIGetter):
            return context if context is not None else Context()
        return super().extract(carrier, context=context, getter=getter)


def caller_linked(span, request) -> None:
    """The Django instrumentation's request hook: link the request's span to the caller's, if it sent one."""
    caller = trace.get_current_span(_TRACEPARENT.extract(request.META, getter=wsgi_getter)).get_span_context()
    if caller.is_valid and span.is_recording():
        span.add_link(caller)

"""What tracing costs per event ingested and per delivery attempted, off and on, as ratios to off in the same run.

`.venv/bin/python -m bench.tracing_cost [--deliveries 2000] [--rounds 5]`

In this process, on a throwaway PostgreSQL cluster (tests/throwaway_servers.py), an in-memory broker and cache, and
the bench's receiver (nginx, else the Python one): each round ingests DELIVERIES 1 KiB events to one subscription
through the API (Django's test client, batches of 100) and then attempts them as a worker would (its subscription's
drain, delivery/drain.py, claiming OUTFLOW_DELIVERY_BATCH at a time, until nothing is due), once per mode, the modes
in turn:

- off: tracing never started (the default), every span Outflow's shared null context;
- memory: tracing on, every span kept by the SDK's in-memory exporter (a SimpleSpanProcessor: made and ended inline);
- otlp: tracing on as in production, a BatchSpanProcessor exporting OTLP/HTTP to a loopback collector (the bench's
  Python receiver, another process), its export thread counted in this process's CPU.

CPU (process time, all threads) and wall time per event and per delivery: medians over the rounds, and each mode's
ratio to off. Also the cost of one span with tracing off: Outflow's null context next to the OpenTelemetry API's no-op
tracer it avoids. Prints a table, then one JSON line of the figures (the last line).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import warnings
from pathlib import Path

from bench.environment import BENCH_DIR
from bench.load import event
from bench.processes import Processes, wait_until
from bench.receiver import receiver_start
from tests.throwaway_servers import ThrowawayPostgres, free_port

MODES = ("off", "memory", "otlp")
INGEST_BATCH = 100


def _span_cost_us() -> dict[str, float]:
    from opentelemetry import trace

    from config import tracing

    noop = trace.NoOpTracer()
    calls = 100_000

    def outflow_off():
        with tracing.span("outflow.request") as span:
            if span.is_recording():
                span.set_attribute("outflow.attempt", 1)

    def api_noop():
        with noop.start_as_current_span("outflow.request") as span:
            span.set_attribute("outflow.attempt", 1)

    return {
        "outflow_off_us": min(timeit.repeat(outflow_off, number=calls, repeat=5)) / calls * 1e6,
        "api_noop_tracer_us": min(timeit.repeat(api_noop, number=calls, repeat=5)) / calls * 1e6,
    }


def _collector_start(processes: Processes, directory: Path) -> str:
    """The bench's Python receiver as the OTLP collector: it answers 204 to every export and logs its path."""
    directory.mkdir(parents=True)
    port = free_port()
    argv = [sys.executable, str(BENCH_DIR / "python_receiver.py"), "--port", str(port), "--directory", str(directory)]
    processes.start("collector", [*argv, "--processes", "1"], env={"PATH": os.environ["PATH"]})

    def accepting() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_until(accepting, timeout=10, what="the collector")
    return f"http://127.0.0.1:{port}"


def _exports(directory: Path) -> int:
    return sum(log.read_text().count(" /v1/traces ") for log in directory.glob("access*.log"))


class _Measured:
    def __init__(self):
        self.cpu = time.process_time()
        self.wall = time.perf_counter()

    def per(self, count: int) -> dict[str, float]:
        return {
            "cpu_us": (time.process_time() - self.cpu) / count * 1e6,
            "wall_us": (time.perf_counter() - self.wall) / count * 1e6,
        }


def _round(*, mode: str, collector_url: str, api_key: str, subscription_id, deliveries: int, prefix: str) -> dict:
    from django.db import connection, connections
    from django.test import Client

    from bench.drained import subscription_drained
    from config.tracing import tracing_start, tracing_stop
    from delivery.models import Delivery

    processor = exporter = None
    if mode == "memory":
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        processor = SimpleSpanProcessor(exporter)
    elif mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{collector_url}/v1/traces"))
    if processor is not None:
        tracing_start(service_name="outflow-bench", span_processor=processor)
    # psycopg is instrumented at connect: every mode starts on a new connection.
    connections.close_all()
    try:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}")
        bodies = [
            json.dumps(
                {"events": [event(event_id=f"{prefix}-{start + index}") for index in range(INGEST_BATCH)]}
            ).encode()
            for start in range(0, deliveries, INGEST_BATCH)
        ]
        measured = _Measured()
        for body in bodies:
            response = client.post("/api/v1/events", body, content_type="application/json")
            assert response.status_code == 202, response.content
        ingest = measured.per(deliveries)
        ids = list(Delivery.objects.filter(status=Delivery.Status.PENDING).values_list("pk", flat=True))
        assert len(ids) == deliveries, len(ids)
        measured = _Measured()
        subscription_drained(subscription_id=subscription_id)
        if processor is not None:
            # What is still queued for export is this round's cost too.
            processor.force_flush()
        attempt = measured.per(deliveries)
        succeeded = Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count()
        assert succeeded == deliveries, f"{succeeded} of {deliveries} succeeded in mode {mode}"
        spans = len(exporter.get_finished_spans()) if exporter is not None else None
    finally:
        tracing_stop()
        # A connection made while tracing was on stays traced.
        connections.close_all()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE requestlog_requestlog, delivery_delivery, delivery_event CASCADE")
    return {"ingest": ingest, "attempt": attempt, "spans": spans}


def _median(rounds: list[dict], path: str, key: str) -> float:
    return statistics.median(result[path][key] for result in rounds)


def main(*, deliveries: int, rounds: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="outflow-tracing-cost-"))
    processes = Processes(directory)
    postgres = ThrowawayPostgres()
    try:
        receiver = receiver_start(processes, directory=directory / "receiver", kind="auto")
        collector_url = _collector_start(processes, directory / "collector")
        os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        os.environ.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=postgres.url,
            CACHE_URL="locmemcache://",
            CELERY_BROKER_URL="memory://",
            OUTFLOW_INGEST_RATE="100000/s",
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True)
        # WhiteNoise's, at each test client's first request: nothing here is static.
        warnings.filterwarnings("ignore", message="No directory at")
        import django

        django.setup()
        from subscriptions.event_catalog import PLATFORM_EVENT_TYPES
        from subscriptions.models import EventType
        from subscriptions.services import subscription_create
        from tenancy.services import environment_create

        EventType.objects.bulk_create(
            [EventType(name=name, description=text) for name, text in PLATFORM_EVENT_TYPES.items()],
            ignore_conflicts=True,
        )
        from tenancy.actors import SYSTEM, actor_set

        actor_set(SYSTEM)  # the audit log names who changes configuration: here, Outflow itself
        environment, api_key = environment_create(name="tracing-cost")
        subscription = subscription_create(
            environment=environment, name="bench", event_types=["card-completed"], url=receiver.url("/bench")
        )
        # A warm-up round of each mode (connections, imports, caches), not counted.
        for mode in MODES:
            _round(
                mode=mode,
                collector_url=collector_url,
                api_key=api_key,
                subscription_id=subscription.pk,
                deliveries=min(deliveries, 200),
                prefix=f"warm-{mode}",
            )
        results: dict[str, list[dict]] = {mode: [] for mode in MODES}
        for number in range(rounds):
            # Each round in another order, so that no mode always runs first (or after the same one).
            for mode in MODES[number % len(MODES) :] + MODES[: number % len(MODES)]:
                results[mode].append(
                    _round(
                        mode=mode,
                        collector_url=collector_url,
                        api_key=api_key,
                        subscription_id=subscription.pk,
                        deliveries=deliveries,
                        prefix=f"r{number}-{mode}",
                    )
                )
        exports = _exports(directory / "collector")
        assert exports > 0, "the otlp rounds exported nothing"
        figures = {"deliveries": deliveries, "rounds": rounds, "receiver": receiver.kind, "modes": {}}
        for mode in MODES:
            figures["modes"][mode] = {
                path: {key: _median(results[mode], path, key) for key in ("cpu_us", "wall_us")}
                for path in ("ingest", "attempt")
            }
        for mode in MODES:
            for path in ("ingest", "attempt"):
                for key in ("cpu_us", "wall_us"):
                    baseline = figures["modes"]["off"][path][key]
                    figures["modes"][mode][path][f"{key.removesuffix('_us')}_ratio"] = (
                        figures["modes"][mode][path][key] / baseline
                    )
        figures["spans_per_delivery"] = results["memory"][-1]["spans"] / deliveries
        figures["otlp_exports"] = exports
        figures["span_when_off"] = _span_cost_us()
        _print(figures)
        print(json.dumps(figures))
    finally:
        processes.stop_all()
        postgres.close()


def _print(figures: dict) -> None:
    print(
        f"tracing cost: {figures['deliveries']} events to 1 subscription per round, median of {figures['rounds']}"
        f" rounds, receiver {figures['receiver']}; µs per event (ingest) and per delivery (attempt)"
    )
    print(
        f"{'mode':<8} {'ingest CPU':>12} {'ratio':>6} {'wall':>10} {'ratio':>6} {'attempt CPU':>12} {'ratio':>6}"
        f" {'wall':>10} {'ratio':>6}"
    )
    for mode, paths in figures["modes"].items():
        cells = []
        for path in ("ingest", "attempt"):
            figures_of = paths[path]
            cells += [
                f"{figures_of['cpu_us']:>12.1f}",
                f"{figures_of['cpu_ratio']:>6.2f}",
                f"{figures_of['wall_us']:>10.1f}",
                f"{figures_of['wall_ratio']:>6.2f}",
            ]
        print(f"{mode:<8} {' '.join(cells)}")
    off = figures["span_when_off"]
    print(
        f"spans per delivery with tracing on (ingest and attempt, psycopg's included): "
        f"{figures['spans_per_delivery']:.2f}; one span with tracing off: {off['outflow_off_us']:.2f} µs"
        f" (the API's no-op tracer: {off['api_noop_tracer_us']:.2f} µs)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    main(deliveries=arguments.deliveries, rounds=arguments.rounds)

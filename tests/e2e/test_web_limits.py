"""No tenant can starve the web tier: gunicorn as the Procfile starts it, slow interactive calls, timed ingest."""

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from subscriptions.services import subscription_create
from tenancy.services import environment_create
from tests import leak_watch
from tests.e2e.test_local_run import _free_port, _wait_for
from tests.factories import event

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SLOW_SECONDS = 8.0
INGEST_CLIENTS = 4
PROCFILE_WORKERS = 2  # the Procfile's default WEB_CONCURRENCY


def _procfile_web_command() -> str:
    [line] = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")]
    return line.removeprefix("web:").strip()


@pytest.fixture(scope="module")
def web_server(django_db_setup, django_db_blocker):
    """The Procfile's web process (its workers and threads) on the test database and the test Redis."""
    database = connection.settings_dict
    directory = Path(tempfile.mkdtemp(prefix="outflow-web-"))
    leak_watch.watch_logs_in(directory)
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if key != "WEB_CONCURRENCY"}
    environment.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        CACHE_URL=settings.CACHES["default"]["LOCATION"],
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        # Long enough that the receiver's slow answers arrive: the calls hold their threads for all of it.
        OUTFLOW_REQUEST_TIMEOUT_SECONDS="15",
        PORT=str(port),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    log = open(directory / "web.log", "w")
    server = subprocess.Popen(
        ["sh", "-c", f"exec {_procfile_web_command()}"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz", timeout=30)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _tenant(name: str):
    environment, key = environment_create(name=name)
    return environment, {"Authorization": f"Bearer {key}"}


class IngestProbe:
    """Clients of another environment posting one event at a time, each call timed, until stopped."""

    def __init__(self, base: str, headers: dict[str, str]):
        self.base, self.headers = base, headers
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._post_until_stopped) for _ in range(INGEST_CLIENTS)]

    def _post_until_stopped(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                response = session.post(f"{self.base}/api/v1/events", json=event(), headers=self.headers, timeout=30)
                self.latencies.append(time.monotonic() - started)
                self.statuses.append(response.status_code)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def report(self, scenario: str) -> str:
        ordered = sorted(self.latencies)
        median, p95, slowest = (
            1000 * value for value in (statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1])
        )
        return (
            f"{scenario}: {len(ordered)} ingest calls by {INGEST_CLIENTS} clients, "
            f"median {median:.0f} ms, p95 {p95:.0f} ms, max {slowest:.0f} ms"
        )


def _fire(calls: list) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _send_request(base, headers, url):
    return lambda: requests.post(
        f"{base}/api/v1/send-request", json={"method": "POST", "url": url}, headers=headers, timeout=60
    )


def _send_test(base, headers, subscription_id):
    return lambda: requests.post(
        f"{base}/api/v1/subscriptions/{subscription_id}/test", json={}, headers=headers, timeout=60
    )


def _sent_slowly(response: requests.Response) -> bool:
    answer = response.json() if response.status_code == 200 else {}
    return answer.get("status", answer.get("response_status")) == 204


def test_one_environment_s_slow_interactive_calls_leave_another_s_ingest_fast(
    web_server, transactional_db, catalog, receiver
):
    receiver.script("/slow", delay=SLOW_SECONDS)
    environment, slow = _tenant("slow")
    _, busy = _tenant("busy")
    subscription = subscription_create(
        environment=environment, name="Slow", event_types=["card-completed"], url=receiver.url("/slow")
    )
    calls = [_send_request(web_server, slow, receiver.url("/slow")) for _ in range(12)]
    calls += [_send_test(web_server, slow, subscription.pk) for _ in range(12)]
    with IngestProbe(web_server, busy) as probe:
        started = time.monotonic()
        responses = _fire(calls)
        took = time.monotonic() - started
    print(probe.report(f"24 slow interactive calls of one environment ({took:.1f} s)"))

    limit = settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT
    assert sum(map(_sent_slowly, responses)) == limit
    refused = [response for response in responses if response.status_code != 200]
    assert len(refused) == len(calls) - limit
    assert all(response.status_code == 429 and response.headers["Retry-After"] == "1" for response in refused)
    assert {response.json()["error"]["code"] for response in refused} == {"rate_limited"}
    assert took >= SLOW_SECONDS and len(receiver.received("/slow")) == limit
    assert set(probe.statuses) == {202}
    assert max(probe.latencies) < 1.0, probe.report("slowest")


def test_many_environments_slow_calls_at_once_leave_ingest_fast(web_server, transactional_db, catalog, receiver):
    receiver.script("/slow", delay=SLOW_SECONDS)
    tenants = [_tenant(f"slow-{number}")[1] for number in range(6)]
    _, busy = _tenant("busy")
    calls = [_send_request(web_server, headers, receiver.url("/slow")) for headers in tenants for _ in range(2)]
    with IngestProbe(web_server, busy) as probe:
        responses = _fire(calls)
    print(probe.report(f"{len(calls)} slow interactive calls of {len(tenants)} environments"))

    sent = sum(map(_sent_slowly, responses))
    process_cap = settings.OUTFLOW_INTERACTIVE_CALLS_PER_PROCESS
    assert 1 <= sent <= PROCFILE_WORKERS * process_cap, [response.status_code for response in responses]
    refused = [response for response in responses if response.status_code != 200]
    assert len(refused) == len(calls) - sent
    assert all(response.status_code == 503 and response.headers["Retry-After"] == "1" for response in refused)
    assert {response.json()["error"]["code"] for response in refused} == {"unavailable"}
    assert set(probe.statuses) == {202}
    assert max(probe.latencies) < 1.0, probe.report("slowest")

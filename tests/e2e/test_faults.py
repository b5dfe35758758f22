"""Faults from outside: the stack of the Procfile (web, worker, beat) on its own PostgreSQL and Redis, which these
tests stop and start mid-run. The database down answers 503, Redis down still accepts, and once either is back
every process carries on by itself with nothing accepted lost."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.factories import event, subscription_payload
from tests.receiver import Receiver
from tests.throwaway_servers import ThrowawayPostgres, ThrowawayRedis, free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


class Stack:
    def __init__(self):
        self.postgres = ThrowawayPostgres()
        self.redis = ThrowawayRedis()
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-faults-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": self.postgres.url,
            "CELERY_BROKER_URL": self.redis.url(0),
            "CACHE_URL": self.redis.url(1),
            # As in production: connections kept and health-checked, so a restart must be noticed and survived.
            "CONN_MAX_AGE": "60",
            "OUTFLOW_VAR_DIR": str(self.directory),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.directory / "beat-schedule"),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "WORKER_CONCURRENCY": "4",
            "WORKER_LOG_LEVEL": "INFO",
            "BEAT_LOG_LEVEL": "INFO",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        self.log_path = self.directory / "honcho.log"
        self.log = open(self.log_path, "w")
        self.honcho: subprocess.Popen | None = None

    def start(self) -> None:
        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [*manage, "migrate", "--noinput"], cwd=ROOT, env=self.environment, check=True, capture_output=True
        )
        created = subprocess.run(
            [*manage, "create_environment", "faults"],
            cwd=ROOT,
            env=self.environment,
            check=True,
            capture_output=True,
            text=True,
        )
        self.headers = {"Authorization": f"Bearer {json.loads(created.stdout)['api_key']}"}
        self.honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", "Procfile"],
            cwd=ROOT,
            env=self.environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_until(lambda: self.get("/healthz").status_code == 200, timeout=40, what="the stack to start")
        self.wait_until(lambda: "ready." in self.log_path.read_text(), timeout=40, what="the worker to start")

    def call(self, method: str, path: str, body=None, timeout: float = 10) -> requests.Response:
        return requests.request(method, self.base + path, json=body, headers=self.headers, timeout=timeout)

    def get(self, path: str) -> requests.Response:
        try:
            return self.call("get", path, timeout=5)
        except requests.RequestException as error:
            response = requests.Response()
            response.status_code, response.reason = 599, str(error)
            return response

    def deliveries(self) -> list[dict]:
        rows = []
        for subscription in self.call("get", "/api/v1/subscriptions").json()["results"]:
            page = self.call("get", f"/api/v1/subscriptions/{subscription['id']}/deliveries?limit=1000").json()
            rows.extend(page["results"])
        return rows

    def wait_until(self, condition, *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.honcho.poll() is not None:
                raise AssertionError(f"a process of the stack exited:\n{self.tail()}")
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.tail()}\n{self.deliveries()}")

    def tail(self) -> str:
        return self.log_path.read_text()[-6000:]

    def close(self) -> None:
        if self.honcho is not None and self.honcho.poll() is None:
            os.killpg(self.honcho.pid, signal.SIGTERM)
            try:
                self.honcho.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.honcho.pid, signal.SIGKILL)
                self.honcho.wait(timeout=10)
        self.log.close()
        self.postgres.close()
        self.redis.close()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def stack():
    built = Stack()
    try:
        built.start()
        yield built
    finally:
        built.close()


@pytest.fixture
def sink(stack):
    server = Receiver()
    created = stack.call("post", "/api/v1/subscriptions", subscription_payload(server.url("/hook")))
    assert created.status_code == 201, created.text
    yield server
    stack.call("delete", f"/api/v1/subscriptions/{created.json()['id']}")
    server.close()


def _delivered_ids(receiver: Receiver) -> set[str]:
    return {json.loads(request.body)["id"] for request in receiver.received("/hook")}


def _ingest(stack: Stack, events: list[dict]) -> requests.Response:
    return stack.call("post", "/api/v1/events", {"events": events})


def test_database_down_answers_503_and_nothing_accepted_is_lost(stack, sink):
    subscription = stack.call("get", "/api/v1/subscriptions").json()["results"][0]["id"]
    # Stopped right after the answer: the workers are still at these deliveries when the database goes.
    before = [event() for _ in range(30)]
    assert _ingest(stack, before).status_code == 202
    stack.postgres.stop()
    try:
        calls = [
            ("get", f"/api/v1/subscriptions/{subscription}", None),
            ("get", f"/api/v1/subscriptions/{subscription}/deliveries", None),
            ("get", f"/api/v1/subscriptions/{subscription}/requests", None),
            ("post", f"/api/v1/subscriptions/{subscription}/pause", None),
            ("post", f"/api/v1/subscriptions/{subscription}/mapping/preview", {"script": "return event;"}),
            ("post", "/api/v1/send-request", {"method": "GET", "url": "http://127.0.0.1:9/"}),
            ("post", "/api/v1/events", {"events": [event()]}),
            ("get", "/api/v1/subscriptions", None),
            ("post", "/api/v1/subscriptions", subscription_payload("http://127.0.0.1:9/")),
            ("get", "/api/v1/credentials", None),
            ("patch", "/api/v1/export-settings", {"include_test_events": True}),
            ("get", "/api/v1/event-types", None),
        ]
        for method, path, body in calls:
            started = time.monotonic()
            response = stack.call(method, path, body)
            assert response.status_code == 503, (method, path, response.status_code, response.text[:300])
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["error"]["code"] == "unavailable"
            assert time.monotonic() - started < 3
        health = stack.get("/healthz")
        assert health.status_code == 503 and health.json()["database"] == "down"
        assert stack.get("/metrics").status_code == 503
    finally:
        stack.postgres.start()
    stack.wait_until(lambda: stack.get("/healthz").status_code == 200, timeout=20, what="the web to see the database")
    after = [event() for _ in range(5)]
    assert _ingest(stack, after).status_code == 202
    expected = {sent["id"] for sent in before + after}
    stack.wait_until(lambda: expected <= _delivered_ids(sink), timeout=30, what="every accepted event to arrive")


def test_redis_down_still_accepts_and_the_sweeper_sends_it_once_back(stack, sink):
    stack.redis.stop()
    try:
        accepted = []
        for _ in range(3):
            batch = [event() for _ in range(3)]
            started = time.monotonic()
            response = _ingest(stack, batch)
            assert response.status_code == 202, response.text
            assert time.monotonic() - started < 2, "ingest waited on the broker"
            accepted.extend(batch)
        health = stack.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"database": "ok", "broker": "down", "cache": "down"}
        assert stack.call("get", "/api/v1/subscriptions").status_code == 200
        time.sleep(2)  # the worker and beat keep running through the outage, retrying the broker
    finally:
        stack.redis.start()
    expected = {sent["id"] for sent in accepted}
    stack.wait_until(lambda: expected <= _delivered_ids(sink), timeout=40, what="every accepted event to arrive")
    assert stack.get("/healthz").status_code == 200
    later = [event()]
    assert _ingest(stack, later).status_code == 202
    stack.wait_until(lambda: later[0]["id"] in _delivered_ids(sink), timeout=20, what="a new event to arrive")


def test_a_hung_redis_holds_no_request_for_long(stack, sink):
    stack.redis.hang()
    try:
        accepted, took = [], []
        for _ in range(4):
            batch = [event()]
            started = time.monotonic()
            response = _ingest(stack, batch)
            took.append(time.monotonic() - started)
            assert response.status_code == 202, response.text
            accepted.extend(batch)
        # The first call waits out the sockets' timeouts once; later ones leave the wake-up to the sweeper.
        assert took[0] < 4 and max(took[1:]) < 1.5, took
        started = time.monotonic()
        assert stack.call("get", "/api/v1/subscriptions").status_code == 200
        assert time.monotonic() - started < 1.5
    finally:
        stack.redis.unhang()
    expected = {sent["id"] for sent in accepted}
    stack.wait_until(lambda: expected <= _delivered_ids(sink), timeout=40, what="every accepted event to arrive")

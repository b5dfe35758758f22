"""`make run`'s configuration: web, worker and beat from the Procfile on SQLite and the embedded broker."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.factories import event, subscription_payload

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
# What `make run` leaves unset: no database, broker or cache servers.
SERVER_SETTINGS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in time")


def test_procfile_on_sqlite_and_embedded_broker_delivers_an_event(receiver):
    var = Path(tempfile.mkdtemp(prefix="outflow-run-"))
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if key not in SERVER_SETTINGS}
    environment.update(
        DEBUG="true",
        OUTFLOW_ALLOW_PRIVATE_TARGETS="true",
        OUTFLOW_VAR_DIR=str(var),
        PORT=str(port),
        WORKER_CONCURRENCY="4",
        WEB_CONCURRENCY="1",
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=environment, check=True, capture_output=True)
    created = subprocess.run(
        [*manage, "create_environment", "local"], cwd=ROOT, env=environment, check=True, capture_output=True, text=True
    )
    api_key = json.loads(created.stdout)["api_key"]
    log = open(var / "honcho.log", "w")
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz", timeout=30)
        headers = {"Authorization": f"Bearer {api_key}"}
        created = requests.post(
            f"{base}/api/v1/subscriptions",
            json=subscription_payload(receiver.url("/local")),
            headers=headers,
            timeout=5,
        )
        assert created.status_code == 201, created.text
        sent = event()
        accepted = requests.post(f"{base}/api/v1/events", json=sent, headers=headers, timeout=5)
        assert accepted.json() == {"accepted": 1, "duplicates": 0, "deliveries": 1}

        [request] = receiver.wait_for(1, "/local", timeout=30)
        assert json.loads(request.body)["id"] == sent["id"]
        assert (var / "outflow.sqlite3").exists()
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(timeout=30)
        log.close()

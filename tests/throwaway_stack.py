"""Outflow's processes on throwaway servers of their own: a throwaway PostgreSQL and Redis (which a test may stop,
kill or freeze), the Procfile's web (gunicorn), any number of Celery workers and beat, and an environment with its
API key. Nothing here touches the shared servers other tests use."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests import leak_watch
from tests.throwaway_servers import ThrowawayPostgres, ThrowawayRedis, free_port
from tests.worker import CeleryProcesses

ROOT = Path(__file__).resolve().parent.parent


def _procfile_command(process: str) -> str:
    [line] = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith(f"{process}:")]
    return line.removeprefix(f"{process}:").strip()


class ThrowawayStack:
    def __init__(self, *, workers: int = 1, concurrency: int = 4, settings: dict[str, str] | None = None):
        self.postgres = ThrowawayPostgres()
        self.redis = ThrowawayRedis()
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-stack-"))
        leak_watch.watch_logs_in(self.directory)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": self.postgres.url,
            "CELERY_BROKER_URL": self.redis.url(0),
            "CACHE_URL": self.redis.url(1),
            # As in production: connections kept and health-checked, so an outage must be noticed and survived.
            "CONN_MAX_AGE": "60",
            "OUTFLOW_VAR_DIR": str(self.directory),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            **(settings or {}),
        }
        self.workers = [CeleryProcesses(self.environment, concurrency=concurrency) for _ in range(workers)]
        self.web: subprocess.Popen | None = None
        self.headers: dict[str, str] = {}

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
        log = open(self.directory / "web.log", "a")
        self.web = subprocess.Popen(
            ["sh", "-c", f"exec {_procfile_command('web')}"],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for processes in self.workers:
            leak_watch.watch_logs_in(processes.directory)
            processes.start_worker()
        self.workers[0].start_beat()  # one beat, as a deployment runs it
        self.wait_until(lambda: self.healthy(), timeout=30, what="the web to answer")

    def processes(self) -> dict[str, subprocess.Popen]:
        found = {"web": self.web, "beat": self.workers[0].beat}
        found.update({f"worker {index + 1}": processes.worker for index, processes in enumerate(self.workers)})
        return found

    def exited(self) -> list[str]:
        return [name for name, process in self.processes().items() if process.poll() is not None]

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def call(self, method: str, path: str, body=None, *, session=None, timeout: float = 10) -> requests.Response:
        return (session or requests).request(method, self.base + path, json=body, headers=self.headers, timeout=timeout)

    def wait_until(self, condition, *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if exited := self.exited():
                raise AssertionError(f"{', '.join(exited)} exited:\n{self.logs()}")
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.logs()}")

    def logs(self) -> str:
        parts = [f"--- web\n{(self.directory / 'web.log').read_text()[-3000:]}"]
        for index, processes in enumerate(self.workers):
            parts.append(f"--- worker {index + 1}\n{processes.log('worker')[-3000:]}")
        parts.append(f"--- beat\n{self.workers[0].log('beat')[-2000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        if self.web is not None and self.web.poll() is None:
            self.web.terminate()
            try:
                self.web.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.web.kill()
        for processes in self.workers:
            processes.stop()
        self.postgres.close()
        self.redis.close()

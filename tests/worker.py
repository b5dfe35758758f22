"""A real Celery worker, notifier (the notifications' worker) and beat as subprocesses of the test run, started as
the Procfile starts them: each worker on its own queue."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class CeleryProcesses:
    def __init__(self, environment: dict[str, str], concurrency: int = 4):
        self.environment = {**os.environ, **environment}
        self.concurrency = concurrency
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-celery-"))
        self.worker: subprocess.Popen | None = None
        self.notifier: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None

    def _spawn(self, name: str, arguments: list[str]) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "a")
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *arguments, "--loglevel", "INFO"],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=log,
        )

    def start(self) -> None:
        self.start_worker()
        self.start_notifier()
        self.start_beat()

    def start_beat(self) -> None:
        self.beat = self._spawn("beat", ["beat", "--schedule", str(self.directory / "beat-schedule")])

    def start_worker(self, timeout: float = 30.0) -> None:
        self.worker = self._worker_spawn("worker", queue="outflow", timeout=timeout)

    def start_notifier(self, timeout: float = 30.0) -> None:
        self.notifier = self._worker_spawn("notifier", queue="outflow-notifications", timeout=timeout)

    def _worker_spawn(self, name: str, *, queue: str, timeout: float) -> subprocess.Popen:
        log_path = self.directory / f"{name}.log"
        offset = log_path.stat().st_size if log_path.exists() else 0
        process = self._spawn(
            name,
            [
                "worker",
                "--queues",
                queue,
                "--pool",
                "threads",
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"tests-{name}-{time.time_ns()}@%h",
            ],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in log_path.read_text()[offset:]:
                return process
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the Celery {name} did not start:\n{self.log(name)}")

    def kill_worker(self) -> None:
        """SIGKILL, as a crashed machine would: no acknowledgement, no cleanup."""
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def kill_notifier(self) -> None:
        self.notifier.send_signal(signal.SIGKILL)
        self.notifier.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.worker, self.notifier, self.beat):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text()[-5000:]

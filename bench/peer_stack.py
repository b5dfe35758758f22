"""The peer under the same conditions: its own venv, database and broker database, a worker of Outflow's size."""

import json
import os
import shutil
import subprocess
import sys
import time

from bench.databases import PeerDatabase, database_recreate, queue_purge, redis_flush
from bench.environment import BENCH_DIR, PEER_BROKER_URL, PEER_DATABASE, PEER_QUEUE, WORKER_CONCURRENCY
from bench.load import event
from bench.processes import Processes, poll_until
from bench.receiver import Receiver

PEER_VENV = BENCH_DIR / ".peer-venv"
PEER_REQUIREMENTS = BENCH_DIR / "peer" / "requirements.txt"
PEER_PYTHON = PEER_VENV / "bin" / "python"
POLL_SECONDS = 0.25
FIRE_SETUP_SECONDS = 60


def peer_venv_ensure() -> None:
    """Make bench/.peer-venv from bench/peer/requirements.txt, again whenever that file changes."""
    stamp = PEER_VENV / "installed-requirements.txt"
    if stamp.exists() and stamp.read_text() == PEER_REQUIREMENTS.read_text():
        return
    for argv, timeout in (
        ([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], 300),
        ([str(PEER_PYTHON), "-m", "pip", "install", "--quiet", "-r", str(PEER_REQUIREMENTS)], 900),
    ):
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:4])} failed:\n{completed.stdout[-2000:]}{completed.stderr[-3000:]}")
    shutil.copyfile(PEER_REQUIREMENTS, stamp)


class PeerStack:
    def __init__(self, processes: Processes, receiver: Receiver):
        self.processes = processes
        self.receiver = receiver
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "peer.settings",
            "BENCH_PEER_DATABASE": PEER_DATABASE,
            "BENCH_PEER_BROKER_URL": PEER_BROKER_URL,
        }
        self.database: PeerDatabase | None = None
        self.workers: list[str] = []

    def _python(self, *arguments: str, timeout: float) -> str:
        completed = subprocess.run(
            [str(PEER_PYTHON), *arguments], cwd=BENCH_DIR, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if completed.returncode != 0:
            raise RuntimeError(f"peer {' '.join(arguments[:2])} failed:\n{completed.stderr[-3000:]}")
        return completed.stdout

    def prepare(self) -> None:
        peer_venv_ensure()
        database_recreate(PEER_DATABASE)
        redis_flush(PEER_BROKER_URL)
        self._python("-m", "django", "migrate", "--run-syncdb", "--noinput", timeout=300)
        self.database = PeerDatabase(PEER_DATABASE)

    def start(self) -> None:
        """One worker process of WORKER_CONCURRENCY threads, as Outflow's Procfile runs its worker."""
        self.worker_add()

    def worker_add(self) -> None:
        """One more worker process like the first, under its own node name."""
        name = f"peer-worker-{len(self.workers) + 1}" if self.workers else "peer-worker"
        self.processes.start(
            name,
            [
                str(PEER_VENV / "bin" / "celery"),
                "-A",
                "peer",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
                "--hostname",
                f"{name}@%h",
            ],
            env=self.env,
            cwd=BENCH_DIR,
        )
        self.workers.append(name)

    def workers_stop(self) -> None:
        while self.workers:
            self.processes.stop(self.workers.pop())

    def worker_pid(self) -> int:
        return self.processes.pid("peer-worker")

    def e2e_run(self, *, tag: str, fanout: int, events: int, timeout: float) -> dict:
        """Save `events` events with `fanout` webhooks; deliveries/s from the first save to the last arrival."""
        mark = self.receiver.mark()
        prefix = f"/peer/{tag}/"
        urls = [arg for n in range(fanout) for arg in ("--url", self.receiver.url(f"{prefix}{n}"))]
        template = json.dumps(event(event_id="template"))
        fired = json.loads(
            self._python(
                "-m",
                "peer.fire",
                "--events",
                str(events),
                "--seconds",
                str(timeout),
                "--prefix",
                tag,
                "--template",
                template,
                *urls,
                timeout=timeout + FIRE_SETUP_SECONDS,
            )
        )
        expected = fired["events"] * fanout
        poll_until(
            lambda: self.database.succeeded() >= expected,
            timeout=max(0.0, fired["started"] + timeout - time.time()),
            interval=POLL_SECONDS,
        )
        delivered = self.database.succeeded()
        queue_purge(broker_url=PEER_BROKER_URL, queue=PEER_QUEUE)
        arrivals = self.receiver.arrivals(prefix, since=mark)
        seconds = max(arrival.at for arrival in arrivals) - fired["started"] if arrivals else None
        return {
            "expected": expected,
            "deliveries": delivered,
            "complete": delivered >= expected,
            "seconds": seconds,
            "deliveries_per_second": delivered / seconds if seconds else None,
            "save_seconds": fired["seconds"],
        }

    def close(self) -> None:
        if self.database is not None:
            self.database.close()

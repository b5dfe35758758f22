"""The stack under test: Outflow's database, its environment and API key, and its Procfile processes."""

import json
import subprocess
import sys
from pathlib import Path

from bench.api import OutflowApi
from bench.databases import OutflowDatabase, database_recreate, queue_purge, redis_flush, redis_server_pid
from bench.environment import (
    BROKER_URL,
    CACHE_URL,
    DATABASE,
    OUTFLOW_QUEUE,
    ROOT,
    free_port,
    outflow_environment,
)
from bench.memory import tree_cpu_seconds
from bench.processes import Processes, procfile_commands, wait_until

PIPELINE = ("worker", "beat")
MANAGE_TIMEOUT_SECONDS = 300


class OutflowStack:
    def __init__(self, processes: Processes, *, state_dir: Path):
        self.processes = processes
        self.port = free_port()
        self.env = outflow_environment(port=self.port, state_dir=state_dir)
        self.api: OutflowApi | None = None
        self.api_key = ""
        self.workers = ["worker"]
        self.database: OutflowDatabase | None = None

    def python(self, *arguments: str, timeout: float = MANAGE_TIMEOUT_SECONDS) -> str:
        """Run the project's Python with Outflow's environment (manage.py commands, bench modules); its stdout."""
        completed = subprocess.run(
            [sys.executable, *arguments], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
        return completed.stdout

    def prepare(self) -> None:
        """A new database, empty Redis databases, migrations, and one environment whose key the load uses."""
        database_recreate(DATABASE)
        redis_flush(BROKER_URL)
        redis_flush(CACHE_URL)
        self.python("manage.py", "migrate", "--noinput")
        created = json.loads(self.python("manage.py", "create_environment", "bench").strip().splitlines()[-1])
        self.api_key = created["api_key"]
        self.api = OutflowApi(base_url=self.base_url, api_key=self.api_key)
        self.database = OutflowDatabase(DATABASE)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for name in ("web", *PIPELINE):
            self.processes.start_procfile(name, env=self.env)
        wait_until(
            lambda: self.api.healthy() or not all(self.processes.alive(name) for name in ("web", *PIPELINE)),
            timeout=60,
            what="Outflow's web to answer /healthz",
        )
        for name in ("web", *PIPELINE):
            if not self.processes.alive(name):
                raise RuntimeError(f"Outflow's {name} stopped:\n{self.processes.log(name)}")

    def freeze_pipeline(self) -> None:
        """Stop worker and beat in place (SIGSTOP): ingest alone has the machine, tasks pile up in the broker."""
        for name in (*self.workers[1:], *PIPELINE):
            self.processes.freeze(name)

    def thaw_pipeline(self) -> None:
        for name in (*PIPELINE, *self.workers[1:]):
            self.processes.thaw(name)

    def purge_queue(self) -> None:
        queue_purge(broker_url=BROKER_URL, queue=OUTFLOW_QUEUE)

    def clear(self, subscription_ids: list[str]) -> None:
        """Between runs: empty the queue and the event tables, delete the run's subscriptions."""
        self.purge_queue()
        self.database.clear_events()
        for subscription_id in subscription_ids:
            self.api.subscription_delete(subscription_id)

    def worker_pid(self) -> int:
        return self.processes.pid("worker")

    def worker_add(self) -> None:
        """One more worker process, the Procfile's line under its own node name (2 cores: 2 processes at most)."""
        name = f"worker-{len(self.workers) + 1}"
        command = f"exec {procfile_commands()['worker']} --hostname {name}@%h"
        self.processes.start(name, ["bash", "-c", command], env=self.env)
        self.workers.append(name)

    def workers_reduce(self) -> None:
        """Back to the one worker process of the Procfile."""
        while len(self.workers) > 1:
            self.processes.stop(self.workers.pop())

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the worker processes (summed), of web, and of the PostgreSQL and Redis servers (all
        their clients: the harness's polling and anything else on the machine count too)."""
        return {
            "worker": sum(tree_cpu_seconds(self.processes.pid(name)) for name in self.workers),
            "web": tree_cpu_seconds(self.processes.pid("web")),
            "postgres": tree_cpu_seconds(self.database.server_pid()),
            "redis": tree_cpu_seconds(redis_server_pid(BROKER_URL)),
        }

    def close(self) -> None:
        if self.database is not None:
            self.database.close()

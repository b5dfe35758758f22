"""Throwaway PostgreSQL and Redis servers a test may stop and start: never the shared ones other suites use.

PostgreSQL is a fresh cluster (initdb) in a temporary directory on a free port, run as the `postgres` user when the
tests run as root (PostgreSQL refuses to run as root); Redis is a redis-server without persistence on a free port.
Both keep their port across restarts, so the processes using them reconnect to the same address.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return versions[-1].parent


class ThrowawayPostgres:
    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.bin = _postgres_bin()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "outflow")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/outflow"

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory}"
            # fsync off is safe here: a stop kills the server, not the machine, so the OS keeps what was written.
            " -c fsync=off -c full_page_writes=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")

    def stop(self) -> None:
        """As a crash or a failover would look to clients: connections cut at once."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _server_processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, WAL writer...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # The parent's pid is the second field after the command name, which is in parentheses.
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """SIGSTOP the server and all its processes: the port still takes connections, nothing answers (a storage
        stall, or a partition that leaves the port open)."""
        for pid in self._server_processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._server_processes():
            os.kill(pid, signal.SIGCONT)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.thaw()
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class ThrowawayRedis:
    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-redis-"))
        self.process: subprocess.Popen | None = None
        self.start()

    def url(self, database: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = open(self.directory / "redis.log", "a")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=log,
            stderr=log,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """SIGKILL: what a crashed Redis leaves, nothing flushed (there is no persistence anyway)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def hang(self) -> None:
        """SIGSTOP: the port still takes connections (the kernel's backlog) but nothing answers."""
        self.process.send_signal(signal.SIGSTOP)

    def unhang(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.unhang()
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

"""The receiver every sender posts to: nginx answering 204 (or, without nginx, a multi-process Python one).

Both write one line per request, `<arrival unix time> <path> <webhook-id header or ->`, to access logs in
their directory; `arrivals()` reads them back.
"""

import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.environment import BENCH_DIR, free_port
from bench.processes import Processes, wait_until

NGINX_CONFIG = """\
daemon off;
worker_processes 2;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    log_format arrivals '$msec $uri $http_webhook_id';
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{port};
        access_log {directory}/access.log arrivals;
        location / {{ return 204; }}
    }}
}}
"""
PYTHON_RECEIVER_PROCESSES = 2


@dataclass(frozen=True)
class Arrival:
    at: float
    path: str
    webhook_id: str


class Receiver:
    def __init__(self, *, kind: str, port: int, directory: Path):
        self.kind = kind
        self.port = port
        self.directory = directory

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def mark(self) -> dict[Path, int]:
        """Where the access logs end now: arrivals(since=mark) then reads only what came after."""
        return {log: log.stat().st_size for log in self.directory.glob("access*.log")}

    def arrivals(self, prefix: str, *, since: dict[Path, int]) -> list[Arrival]:
        found = []
        for log in sorted(self.directory.glob("access*.log")):
            with open(log, "rb") as logged:
                logged.seek(since.get(log, 0))
                written = logged.read()
                for line in written[: written.rfind(b"\n") + 1].decode().splitlines():
                    at, path, webhook_id = line.split(" ", 2)
                    if path.startswith(prefix):
                        found.append(Arrival(float(at), path, webhook_id))
        return found


def _accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def receiver_start(processes: Processes, *, directory: Path, kind: str) -> Receiver:
    """kind: "nginx", "python", or "auto" (nginx when installed)."""
    if kind == "auto":
        kind = "nginx" if shutil.which("nginx") else "python"
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    if kind == "nginx":
        config = directory / "nginx.conf"
        config.write_text(NGINX_CONFIG.format(directory=directory, port=port))
        argv = [shutil.which("nginx") or "nginx", "-p", str(directory), "-c", str(config)]
    else:
        argv = [
            sys.executable,
            str(BENCH_DIR / "python_receiver.py"),
            "--port",
            str(port),
            "--directory",
            str(directory),
            "--processes",
            str(PYTHON_RECEIVER_PROCESSES),
        ]
    processes.start("receiver", argv, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
    wait_until(lambda: _accepting(port) or not processes.alive("receiver"), timeout=10, what=f"the {kind} receiver")
    if not processes.alive("receiver"):
        raise RuntimeError(f"the {kind} receiver did not start:\n{processes.log('receiver')}")
    return Receiver(kind=kind, port=port, directory=directory)

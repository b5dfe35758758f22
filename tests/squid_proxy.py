"""A real egress proxy for the tests: Debian's squid on a free loopback port, with its own config, logs and
directories in a temporary directory. It allows CONNECT to any port from loopback and caches nothing."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.throwaway_servers import free_port

_CONFIG = """\
http_port 127.0.0.1:{port}
pid_filename {directory}/squid.pid
access_log stdio:{directory}/access.log squid
cache_log {directory}/cache.log
cache_store_log none
coredump_dir {directory}
cache deny all
cache_mem 8 MB
acl loopback src 127.0.0.1/32
acl CONNECT method CONNECT
http_access allow loopback
http_access deny all
shutdown_lifetime 0 seconds
"""


class SquidProxy:
    """Started on a port chosen now and kept across stop() and start(), so a proxy that went down comes back there."""

    def __init__(self, *, start: bool = True):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-squid-"))
        # squid started as root runs as its own user (proxy), which must write its logs here.
        os.chmod(self.directory, 0o777)
        self.config = self.directory / "squid.conf"
        self.config.write_text(_CONFIG.format(port=self.port, directory=self.directory))
        self.process: subprocess.Popen | None = None
        if start:
            self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        output = open(self.directory / "squid.out", "a")
        self.process = subprocess.Popen(
            ["squid", "-N", "-f", str(self.config)], stdout=output, stderr=output, cwd=self.directory
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"squid did not start: {(self.directory / 'squid.out').read_text()[-2000:]}")

    def access_log(self) -> list[str]:
        """The access log's lines (squid writes each when its request ends)."""
        path = self.directory / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def wait_for_log(self, needle: str, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.access_log() if needle in line]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no access log line with {needle!r}: {self.access_log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        (self.directory / "squid.pid").unlink(missing_ok=True)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

"""A real HTTP receiver on loopback for the tests: records every request, answers as a test scripts it."""

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Script:
    """Answers for one path: statuses in turn (the last one repeats), after an optional delay."""

    statuses: list[int] = field(default_factory=lambda: [204])
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Receiver:
    def __init__(self, tls: ssl.SSLContext | None = None):
        """With `tls`, an HTTPS receiver; a failed handshake (no client certificate where one is required) closes
        the connection before any request is recorded."""
        self.requests: list[Received] = []
        self._scripts: dict[str, Script] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, **kwargs) -> None:
        self._scripts[path] = Script(**kwargs)

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [request for request in self.requests if path is None or request.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests on {path or 'any path'}, got {len(self.received(path))}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str) -> Script:
        with self._lock:
            script = self._scripts.get(path.split("?")[0], Script())
            served = self._served.get(path, 0)
            self._served[path] = served + 1
        status = script.statuses[min(served, len(script.statuses) - 1)]
        return Script(statuses=[status], delay=script.delay, headers=script.headers, body=script.body)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                answer = receiver._answer(self.path)
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.statuses[0])
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _handle

            def log_message(self, format, *args):
                pass

        return Handler

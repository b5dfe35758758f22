"""The fallback receiver when nginx is not installed: forked processes sharing one socket, 204 to every request.

Each process logs `<arrival unix time> <path> <webhook-id or ->` per request to its own access-<pid>.log.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(listener: socket.socket, directory: Path) -> None:
    log = open(directory / f"access-{os.getpid()}.log", "a", buffering=1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            self.end_headers()
            line = f"{time.time():.3f} {self.path.split('?')[0]} {self.headers.get('webhook-id') or '-'}\n"
            with lock:
                log.write(line)

        do_POST = do_PUT = do_GET = _answer

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(listener.getsockname(), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    server.daemon_threads = True
    server.serve_forever()


def python_receiver_start(directory: Path, *, port: int) -> tuple[subprocess.Popen, str]:
    """This receiver as a process of its own on a loopback port, once it accepts; the process and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.python_receiver", "--port", str(port), "--directory", str(directory)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the receiver did not start")


def python_receiver_stop(process: subprocess.Popen) -> None:
    """Stop the receiver and the processes it forked (its own session's group)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, required=True)
    parser.add_argument("--processes", type=int, default=2)
    arguments = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", arguments.port))
    listener.listen(1024)
    for _ in range(arguments.processes - 1):
        if os.fork() == 0:
            break
    serve(listener, arguments.directory)


if __name__ == "__main__":
    main()

"""A dead endpoint on loopback: a listener that never accepts, its queue kept full so that connects time out.

Linux drops a SYN while a listener's accept queue is full, so the client retransmits until its own connect
timeout; it is never refused. The queue (backlog 0 holds one) is filled by our own connections first.
"""

import socket
import time

PROBE_TIMEOUT_SECONDS = 0.5
MAX_FILLERS = 8


class Blackhole:
    def __init__(self):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []
        for _ in range(MAX_FILLERS):
            if self._connect_times_out():
                break
        if not self._connect_times_out():
            self.close()
            raise RuntimeError("the black hole accepts or refuses connections instead of letting them time out")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _connect_times_out(self) -> bool:
        client = socket.socket()
        client.settimeout(PROBE_TIMEOUT_SECONDS)
        started = time.monotonic()
        try:
            client.connect(("127.0.0.1", self.port))
        except TimeoutError:
            client.close()
            return time.monotonic() - started >= PROBE_TIMEOUT_SECONDS * 0.9
        except OSError:
            client.close()
            return False
        self._fillers.append(client)
        return False

    def close(self) -> None:
        for client in self._fillers:
            client.close()
        self._listener.close()

    def __enter__(self) -> "Blackhole":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""A wall-clock deadline for outgoing requests: one watchdog thread shuts down sockets whose time ran out.

urllib3's timeouts bound each connect and each read, not the whole exchange: a receiver that drips a byte
at a time would hold a worker thread for as long as it liked.
"""

import heapq
import itertools
import socket
import threading
import time

_current = threading.local()


class Watch:
    def __init__(self, deadline: float, sock: socket.socket):
        self.deadline = deadline
        self.sock = sock
        self.done = False
        self.fired = False


class _Watchdog:
    def __init__(self):
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, sock: socket.socket) -> Watch:
        watch = Watch(deadline, sock)
        with self._condition:
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outflow-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is watch:
                self._condition.notify()
        return watch

    def _run(self) -> None:
        with self._condition:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._condition.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                _, _, watch = heapq.heappop(self._heap)
                if not watch.done:
                    watch.fired = True
                    try:
                        watch.sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


_watchdog = _Watchdog()


def deadline_begin(deadline: float) -> None:
    """Sockets this thread uses from now on are cut at this monotonic time."""
    _current.deadline = deadline
    _current.watch = None


def deadline_remaining() -> float | None:
    deadline = getattr(_current, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()


def deadline_guard(sock: socket.socket) -> None:
    """Put the socket about to carry this thread's request under its deadline."""
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and getattr(_current, "watch", None) is None:
        _current.watch = _watchdog.watch(deadline, sock)


def deadline_end() -> bool:
    """Stop watching; whether the deadline cut the request."""
    watch = getattr(_current, "watch", None)
    _current.deadline = None
    _current.watch = None
    if watch is None:
        return False
    watch.done = True
    return watch.fired

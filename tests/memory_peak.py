"""The highest resident memory of some processes, sampled in a thread every millisecond until stopped."""

import os
import threading
import time
from collections.abc import Callable


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def children_of(pid: int) -> list[int]:
    """The child processes of a process, from each of its threads' lists."""
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                children.extend(int(child) for child in listed.read().split())
        except FileNotFoundError:
            pass
    return children


class PeakMemory:
    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.peak = 0
        self._pids = pids
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stopped.is_set():
            for pid in self._pids():
                try:
                    self.peak = max(self.peak, rss_bytes(pid))
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    pass
            time.sleep(0.001)

    def stop(self) -> int:
        self._stopped.set()
        self._thread.join()
        return self.peak

"""Resident memory and CPU time of a process tree, summed from /proc, and a sampler that keeps each tree's peak RSS."""

import os
import threading
from pathlib import Path

SAMPLE_INTERVAL_SECONDS = 0.2


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in field 2 may hold spaces; the parent pid is the 2nd field after its ")".
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_rss_bytes(root_pid: int) -> int:
    """VmRSS of a process and all its descendants."""
    children = _children_by_parent()
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


def _tree(root_pid: int) -> list[int]:
    children = _children_by_parent()
    pids, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, []))
    return pids


def tree_cpu_seconds(root_pid: int) -> float:
    """User and system CPU time of a process and its live descendants (with their reaped children's)."""
    ticks = 0
    for pid in _tree(root_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the command name.
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class PeakSampler:
    """Samples named process trees every SAMPLE_INTERVAL_SECONDS in a thread; `peak(name)` since `restart(name)`."""

    def __init__(self):
        self._roots: dict[str, int] = {}
        self._peaks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self._roots[name] = pid
            self._peaks[name] = 0

    def restart(self, name: str) -> None:
        with self._lock:
            self._peaks[name] = 0

    def peak(self, name: str) -> int:
        self._sample()
        with self._lock:
            return self._peaks[name]

    def _sample(self) -> None:
        with self._lock:
            for name, pid in self._roots.items():
                if os.path.exists(f"/proc/{pid}"):
                    self._peaks[name] = max(self._peaks[name], tree_rss_bytes(pid))

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_SECONDS):
            self._sample()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

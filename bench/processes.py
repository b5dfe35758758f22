"""Child processes of a bench run, each in its own process group so that stopping one stops all it started."""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.environment import ROOT

STOP_GRACE_SECONDS = 10.0


def poll_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    """Whether predicate came true within timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    if not poll_until(predicate, timeout=timeout):
        raise TimeoutError(f"gave up after {timeout:g}s waiting for {what}")


def procfile_commands(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's `name: command` lines (comments and blank lines skipped)."""
    commands = {}
    for line in path.read_text().splitlines():
        name, separator, command = line.partition(":")
        if separator and not line.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


class Processes:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self._running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        with log:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        self._running[name] = process
        return process

    def start_procfile(self, name: str, *, env: dict[str, str]) -> subprocess.Popen:
        """One Procfile line as a process manager runs it: by the shell, which `exec`s it (so the pid is its own)."""
        return self.start(name, ["bash", "-c", f"exec {procfile_commands()[name]}"], env=env)

    def pid(self, name: str) -> int:
        return self._running[name].pid

    def alive(self, name: str) -> bool:
        return name in self._running and self._running[name].poll() is None

    def log(self, name: str, tail: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def freeze(self, name: str) -> None:
        os.killpg(self.pid(name), signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        os.killpg(self.pid(name), signal.SIGCONT)

    def stop(self, name: str) -> None:
        process = self._running.pop(name, None)
        if process is None:
            return
        for sig in (signal.SIGCONT, signal.SIGTERM):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=STOP_GRACE_SECONDS)

    def stop_all(self) -> None:
        for name in reversed(list(self._running)):
            self.stop(name)

"""Runs customers' JavaScript mappings in sandbox processes (mapping/sandbox_process.py) killable from outside.

A process maps a whole batch of events in one round trip and answers each run as it ends. Each run must answer
within twice its time limit plus a margin, or its process is killed and replaced; a process that holds more memory
than a run may ends itself. Every call names the environment whose script it runs: a process keeps a V8 isolate per
environment, so runs of different environments never share an object. Within an environment nothing of a run
outlives it either: the prelude freezes every object a script can reach but the global object, whose additions are
swept after each run.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mapping.protocol import (
    FRAME_HEADER_BYTES,
    MEMORY_EXIT_CODE,
    MappingLimits,
    answer_parse,
    check_request,
    frame_length,
    memory_message,
    run_request,
)

__all__ = ["MappingLimits", "mapping_run", "mapping_run_each", "mapping_syntax_error"]

logger = logging.getLogger(__name__)

# What a run may overrun its limit by before its process is killed: reading its events, the kill, the answer.
KILL_MARGIN_SECONDS = 0.08
# Reading a request is the sandbox's work too: this much extra time per MiB of events sent.
READ_SECONDS_PER_MIB = 0.01
START_TIMEOUT_SECONDS = 30.0
# Runs of one request that may end with their process stopped before the rest of the request is put off.
MAX_PROCESSES_STOPPED = 2
_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class MappingResult:
    output: object
    skipped: bool
    logs: list[str]


class MappingError(Exception):
    """A mapping that cannot produce a payload; `line` counts from the first line of the customer's script."""

    kind = "mapping_error"

    def __init__(self, message: str, *, line: int | None = None, logs: list[str] | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line
        self.logs = logs if logs is not None else []


class MappingSyntaxError(MappingError):
    kind = "syntax_error"


class MappingRuntimeError(MappingError):
    kind = "runtime_error"


class MappingTimeout(MappingError):
    kind = "timeout"


class MappingMemoryLimit(MappingError):
    kind = "memory_limit"


class MappingOutputTooLarge(MappingError):
    kind = "output_too_large"


class MappingOutputNotJSON(MappingError):
    kind = "output_not_json"


class SandboxFailure(RuntimeError):
    """The sandbox itself failed (not the script): the delivery is retried, not failed."""


_ERRORS = {
    error.kind: error
    for error in (
        MappingSyntaxError,
        MappingRuntimeError,
        MappingTimeout,
        MappingMemoryLimit,
        MappingOutputTooLarge,
        MappingOutputNotJSON,
    )
}


def mapping_run(
    *, script: str, event: dict, environment_id: object, limits: MappingLimits | None = None
) -> MappingResult:
    """Run the script as the body of `function (event)`; its return value is the payload (null/undefined skip)."""
    (outcome,) = mapping_run_each(script=script, events=[event], environment_id=environment_id, limits=limits)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def mapping_run_each(
    *, script: str, events: list[dict], environment_id: object, limits: MappingLimits | None = None
) -> list[MappingResult | MappingError | SandboxFailure]:
    """Run the script once per event, in one round trip; each event's result or error, in order.

    `environment_id` is whose script it is: the runs get that environment's isolate, and one environment holds at
    most all but one of the sandbox processes.
    """
    limits = limits or default_limits()
    if too_large := _script_too_large(script, limits):
        return [too_large] * len(events)
    encoded = [json.dumps(event, allow_nan=False, separators=(",", ":")).encode() for event in events]
    outcomes: list = []
    stopped = 0
    while len(outcomes) < len(encoded):
        if stopped == MAX_PROCESSES_STOPPED:
            # Each stop costs a process; the rest wait for a retry rather than hold a sandbox others need.
            deferred = SandboxFailure(f"not run: {stopped} earlier runs of this script in the batch had to be stopped")
            return outcomes + [deferred] * (len(encoded) - len(outcomes))
        with _pool.process(environment_id=environment_id) as process:
            answered = process.run(
                script=script, events=encoded[len(outcomes) :], environment_id=environment_id, limits=limits
            )
            stopped += not process.alive
        outcomes.extend(answered)
    return outcomes


def mapping_syntax_error(
    *, script: str, environment_id: object, limits: MappingLimits | None = None
) -> MappingError | None:
    """Compile the script without running it; the error (with its line) if it does not compile, else None."""
    limits = limits or default_limits()
    if too_large := _script_too_large(script, limits):
        return too_large
    with _pool.process(environment_id=environment_id) as process:
        return process.check(script=script, environment_id=environment_id, limits=limits)


def _script_too_large(script: str, limits: MappingLimits) -> MappingError | None:
    if len(script) > limits.script_bytes or len(script.encode("utf-8", "surrogatepass")) > limits.script_bytes:
        return MappingSyntaxError(f"the script is larger than the limit of {limits.script_bytes} bytes")
    return None


def default_limits() -> MappingLimits:
    from django.conf import settings

    return MappingLimits(
        timeout_ms=settings.OUTFLOW_MAPPING_TIMEOUT_MS,
        memory_bytes=settings.OUTFLOW_MAPPING_MEMORY_BYTES,
        output_bytes=settings.OUTFLOW_MAPPING_OUTPUT_BYTES,
        log_chars=settings.OUTFLOW_MAPPING_LOG_CHARS,
        script_bytes=settings.OUTFLOW_MAPPING_SCRIPT_BYTES,
    )


class _Died(Exception):
    """The sandbox process ended or missed its deadline; it has been killed."""

    def __init__(self, outcome: MappingError | SandboxFailure) -> None:
        self.outcome = outcome


class SandboxProcess:
    """One sandbox process and its pipes; used by one thread at a time. It keeps an isolate for each of at most
    `isolates` environments."""

    def __init__(self, *, isolates: int) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "mapping.sandbox_process", "--isolates", str(isolates)],
            cwd=_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env={**os.environ, "PYTHONPATH": str(_ROOT)},
        )
        # Writes must not block on a process that stopped reading: its deadline still has to hold.
        os.set_blocking(self._process.stdin.fileno(), False)
        self._killed = False
        self._buffer = bytearray()
        self._isolates = isolates
        # The environments this process last ran, as it keeps their isolates (it may have dropped some since).
        self._environments: collections.OrderedDict[str, None] = collections.OrderedDict()
        try:
            ready, _ = self._read(deadline=time.monotonic() + START_TIMEOUT_SECONDS, waiting_for="start")
        except _Died as died:
            raise died.outcome from None
        self.baseline_rss = ready["rss"]

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return not self._killed and self._process.poll() is None

    def holds(self, environment_id: object) -> bool:
        """Whether this process likely keeps the environment's isolate (lending it again saves making one)."""
        return str(environment_id) in self._environments

    def _ran(self, environment_id: object) -> str:
        environment = str(environment_id)
        self._environments[environment] = None
        self._environments.move_to_end(environment)
        while len(self._environments) > self._isolates:
            self._environments.popitem(last=False)
        return environment

    def run(self, *, script: str, events: list[bytes], environment_id: object, limits: MappingLimits) -> list:
        """Outcomes for a prefix of the events: all of them, unless a run killed the process (its outcome is last).

        Answers must come in order, one per event, then the request's end: anything else kills the process.
        """
        environment = self._ran(environment_id)
        request = run_request(script=script, events=events, environment=environment, limits=limits)
        run_seconds = 2 * limits.timeout_ms / 1000 + KILL_MARGIN_SECONDS
        outcomes: list = []
        try:
            self._write(request, deadline=time.monotonic() + 1 + len(request) / 2**20 * READ_SECONDS_PER_MIB)
            deadline = time.monotonic() + run_seconds
            while len(outcomes) < len(events):
                report, output = self._read(deadline=deadline, waiting_for="run", limits=limits)
                if report.get("i") != len(outcomes) or not ("status" in report or "rerun_ms" in report):
                    self._die(SandboxFailure("the mapping sandbox answered out of turn"))
                if "rerun_ms" in report:
                    deadline = time.monotonic() + 2 * report["rerun_ms"] / 1000 + KILL_MARGIN_SECONDS
                    continue
                outcomes.append(_outcome(report, output))
                deadline = time.monotonic() + run_seconds
            # The process is lent again only once the promise jobs these runs left have settled.
            end, _ = self._read(deadline=deadline, waiting_for="run", limits=limits)
            if not end.get("done"):
                self._die(SandboxFailure("the mapping sandbox answered past the request's end"))
            if end["recycle"]:
                self.kill()
        except _Died as died:
            if len(outcomes) < len(events):
                outcomes.append(died.outcome)
        return outcomes

    def check(self, *, script: str, environment_id: object, limits: MappingLimits) -> MappingError | None:
        request = check_request(script=script, environment=self._ran(environment_id), limits=limits)
        try:
            self._write(request, deadline=time.monotonic() + 1)
            report, _ = self._read(deadline=time.monotonic() + 2, waiting_for="check", limits=limits)
        except _Died as died:
            if isinstance(died.outcome, MappingError):
                return died.outcome
            raise died.outcome from None
        if report["status"] == "ok":
            return None
        outcome = _outcome(report, b"")
        if isinstance(outcome, SandboxFailure):
            raise outcome
        return outcome

    def let_go(self) -> None:
        """Close this process's pipes without stopping it (a forked child's copy of its parent's)."""
        self._process.stdin.close()
        self._process.stdout.close()

    def kill(self) -> None:
        if self.alive:
            self._process.kill()
        self._killed = True
        for stream in (self._process.stdin, self._process.stdout):
            stream.close()
        # The kernel may take tens of milliseconds to free a large address space: the answer need not wait for it.
        threading.Thread(target=self._process.wait, name="sandbox-reap", daemon=True).start()

    def _write(self, data: bytes, *, deadline: float) -> None:
        view = memoryview(data)
        descriptor = self._process.stdin.fileno()
        while view:
            if not select.select([], [descriptor], [], max(0.0, deadline - time.monotonic()))[1]:
                self._die(MappingTimeout("the mapping sandbox did not take the events in time"))
            try:
                written = os.write(descriptor, view)
            except BlockingIOError:
                continue
            except BrokenPipeError:
                self._die_of_exit("run")
            view = view[written:]

    def _read(self, *, deadline: float, waiting_for: str, limits: MappingLimits | None = None) -> tuple[dict, bytes]:
        descriptor = self._process.stdout.fileno()
        while True:
            if len(self._buffer) >= FRAME_HEADER_BYTES:
                size = frame_length(bytes(self._buffer[:FRAME_HEADER_BYTES]))
                if len(self._buffer) >= FRAME_HEADER_BYTES + size:
                    payload = bytes(self._buffer[FRAME_HEADER_BYTES : FRAME_HEADER_BYTES + size])
                    del self._buffer[: FRAME_HEADER_BYTES + size]
                    return answer_parse(payload)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([descriptor], [], [], remaining)[0]:
                message = (
                    f"the script ran longer than the limit of {limits.timeout_ms} ms (its sandbox process was stopped)"
                    if waiting_for == "run"
                    else f"the mapping sandbox did not answer in time ({waiting_for})"
                )
                self._die(MappingTimeout(message) if waiting_for != "start" else SandboxFailure(message))
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                self._die_of_exit(waiting_for, limits)
            self._buffer += chunk

    def _die_of_exit(self, waiting_for: str, limits: MappingLimits | None = None):
        try:
            code = self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code == MEMORY_EXIT_CODE and limits is not None:
            raise _Died(MappingMemoryLimit(memory_message(limits.memory_bytes)))
        raise _Died(SandboxFailure(f"the mapping sandbox process ended (exit status {code}) during {waiting_for}"))

    def _die(self, outcome: MappingError | SandboxFailure):
        self.kill()
        raise _Died(outcome)


def _outcome(report: dict, output: bytes) -> MappingResult | MappingError | SandboxFailure:
    status = report["status"]
    if status == "ok":
        return MappingResult(output=json.loads(output), skipped=False, logs=report["logs"])
    if status == "skipped":
        return MappingResult(output=None, skipped=True, logs=report["logs"])
    error = _ERRORS.get(report["kind"])
    if error is None:
        return SandboxFailure(report["message"])
    return error(report["message"], line=report["line"], logs=report["logs"])


class SandboxPool:
    """At most `size` sandbox processes (idle, lent or starting), each lent to one thread at a time and started when
    first needed; one environment holds at most `size - 1` of them at once (all, when there is one). An idle process
    that already keeps the environment's isolate is lent first. Each keeps at most `isolates` environments' isolates."""

    def __init__(self, size: int, *, isolates: int) -> None:
        self._size = size
        self._isolates = isolates
        self._per_environment = max(1, size - 1)
        self._idle: list[SandboxProcess] = []
        self._live = 0
        self._lent: collections.Counter = collections.Counter()
        self._changed = threading.Condition()

    @contextmanager
    def process(self, *, environment_id: object):
        with self._changed:
            self._changed.wait_for(
                lambda: (self._idle or self._live < self._size) and self._lent[environment_id] < self._per_environment
            )
            self._lent[environment_id] += 1
            process = self._take_idle(environment_id)
            if process is None:
                self._live += 1
        try:
            if process is None:
                process = SandboxProcess(isolates=self._isolates)
        except BaseException:
            self._give_back(environment_id, None)
            raise
        try:
            yield process
        finally:
            self._give_back(environment_id, process)

    def _take_idle(self, environment_id: object) -> SandboxProcess | None:
        for index, process in enumerate(self._idle):
            if process.holds(environment_id):
                return self._idle.pop(index)
        return self._idle.pop() if self._idle else None

    def _give_back(self, environment_id: object, process: SandboxProcess | None) -> None:
        replace = False
        with self._changed:
            self._lent[environment_id] -= 1
            if not self._lent[environment_id]:
                del self._lent[environment_id]
            if process is not None and process.alive:
                self._idle.append(process)
            else:
                # A killed process is replaced at once, in the background, so the next run need not wait for it;
                # it stays counted while it starts.
                replace = process is not None
                if not replace:
                    self._live -= 1
            self._changed.notify_all()
        if replace:
            threading.Thread(target=self._replace, name="sandbox-replace", daemon=True).start()

    def _replace(self) -> None:
        try:
            process = SandboxProcess(isolates=self._isolates)
        except Exception:
            logger.exception("starting a mapping sandbox process failed; the next run starts one")
            process = None
        with self._changed:
            if process is None:
                self._live -= 1
            else:
                self._idle.append(process)
            self._changed.notify_all()

    def abandon(self) -> None:
        """In a forked child: let go of the parent's processes without stopping them."""
        with self._changed:
            for process in self._idle:
                process.let_go()
            self._idle.clear()


def _pool_settings() -> tuple[int, int]:
    from django.conf import settings

    return settings.OUTFLOW_MAPPING_PROCESSES, settings.OUTFLOW_MAPPING_ISOLATES


class _LazyPool:
    """The process's pool, sized from settings when first used (settings may not be ready on import)."""

    def __init__(self) -> None:
        self._pool: SandboxPool | None = None
        self._lock = threading.Lock()

    def _get(self) -> SandboxPool:
        with self._lock:
            if self._pool is None:
                size, isolates = _pool_settings()
                self._pool = SandboxPool(size, isolates=isolates)
            return self._pool

    def process(self, *, environment_id: object):
        return self._get().process(environment_id=environment_id)

    def after_fork(self) -> None:
        if self._pool is not None:
            self._pool.abandon()
        self._pool = None
        self._lock = threading.Lock()


_pool = _LazyPool()
os.register_at_fork(after_in_child=_pool.after_fork)

"""A mapping sandbox process: runs customers' scripts in V8 (mini-racer) for its parent, one request at a time.

Started by mapping/sandbox.py as `python -m mapping.sandbox_process`; it reads requests on stdin and answers each
run on stdout as soon as it ends. It imports no Django. Each environment's runs have a V8 isolate of their own (the
least recently used dropped past `--isolates`), so runs of different environments never share an object; between
requests an isolate holds nothing but its frozen built-ins. A run V8 cannot stop (inside one built-in call) is its
parent's to end: the parent kills the whole process. A thread here ends the process the moment it holds more memory
than a run may, whatever V8 is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from py_mini_racer import JSEvalException, JSOOMException, MiniRacer, init_mini_racer, mini_racer
from py_mini_racer._context import _UNCANCELABLE_TASK_CALLBACK_ID

from mapping.protocol import (
    FRAME_HEADER_BYTES,
    MEMORY_EXIT_CODE,
    MappingLimits,
    answer,
    frame_length,
    memory_message,
    request_parse,
)

PRELUDE = (Path(__file__).with_name("prelude.js")).read_text()
# Compiling only parses, so this is a guard against pathological input rather than a customer-facing limit.
SYNTAX_CHECK_TIMEOUT_MS = 1000
# A timed-out run is tried again with this many times its limit, but only when its process had less than half the
# wall-clock time on a CPU (was_starved): then the machine, not the script, took the time.
RERUN_FACTOR = 4
# One evaluation starts runs for this share of a run's limit, so the last one started still has its whole limit and
# the parent, which allows twice the limit between answers, hears of each in time; settling gets the same share.
SLICE_SHARE = 0.25
SETTLE_SHARE = 0.25
# One evaluation carries at most this much event JSON (the V8 heap holds it besides the runs), read at this rate.
CHUNK_BYTES = 1024 * 1024
READ_SECONDS_PER_BYTE = 0.02 / CHUNK_BYTES
# A request whose runs took this many time limits in all, or timed out this often, has the rest put off: one
# environment's script cannot hold a sandbox that every other environment's batches wait for.
REQUEST_BUDGET_RUNS = 40
REQUEST_TIMEOUTS = 3
# What each isolate a process keeps may add to it, on average (V8's structures, its threads, garbage not yet
# collected): one used isolate adds ~2.6 MiB (`python -m bench.mapping_cost --memory`).
ISOLATE_ALLOWANCE_BYTES = 8 * 1024 * 1024
# A process holding more than its baseline, its isolates' allowance and this after a request has the isolate the
# request used collected (V8 collects an old generation lazily: a busy isolate's garbage grows ~0.3 MiB a batch),
# then dropped; still holding more, it is replaced rather than lent again.
TRIM_ABOVE_BYTES = 32 * 1024 * 1024
# Besides the V8 heap a run may use, a process holds its own baseline (Python, V8, ICU) and this much slack for
# garbage not yet collected and V8's young generation.
MEMORY_SLACK_BYTES = 64 * 1024 * 1024
_MEMORY_POLL_SECONDS = 0.001
# How long V8 may take to stop a running evaluation once told to.
_CANCEL_WAIT_SECONDS = 0.02

# The customer's code sits inside `(function anonymous(event\n) {\n` ... `\n})`, two lines below its own line 1.
_WRAPPER_LINES = 2
_SCRIPT_NAME = "mapping.js"
_RUNNER = "__outflowMapping"


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class MemoryWatch:
    """Ends the process when its resident memory passes the cap, checked every millisecond while armed."""

    def __init__(self) -> None:
        self.cap = 0
        self._armed = threading.Event()
        threading.Thread(target=self._watch, name="sandbox-memory-watch", daemon=True).start()

    def arm(self, cap: int) -> None:
        self.cap = cap
        self._armed.set()

    def disarm(self) -> None:
        self._armed.clear()

    def _watch(self) -> None:
        while True:
            self._armed.wait()
            if _rss_bytes() > self.cap:
                os._exit(MEMORY_EXIT_CODE)
            time.sleep(_MEMORY_POLL_SECONDS)


class Context:
    """A V8 isolate with one context prepared by the prelude (mini-racer makes an isolate per MiniRacer); one
    environment's, replaced whenever a run may have left it in an unknown state."""

    def __init__(self) -> None:
        self._context_manager = mini_racer()
        self.racer: MiniRacer = self._context_manager.__enter__()
        self.seq = 0
        # Set when V8 went on running after a deadline: the context is then good only for closing.
        self.stuck = False
        self._memory_limit: int | None = None
        self.racer.eval(PRELUDE)
        # Only code that knows the token can call the runner: this process's evaluations, never a script.
        self.token = json.dumps(secrets.token_hex(16))
        self.racer.eval(f"{_RUNNER}.seal({self.token})")

    def use_memory_limit(self, limit: int) -> None:
        if limit != self._memory_limit:
            self.racer.set_hard_memory_limit(limit)
            self._memory_limit = limit

    def evaluate(self, code: str, *, timeout: float):
        """The value of the code, or TimeoutError once V8 has stopped it at the deadline.

        mini-racer's public evaluation goes through an asyncio loop thread: 150-300 us per call here (measured),
        against ~70 us for its task API used directly as below (pinned mini-racer 0.14.1). A run V8 cannot stop
        blocks this call for good; the parent process then ends us.
        """
        context = self.racer._ctx
        code_handle = context._python_to_value_handle(code)
        task = context._dll.mr_eval(context._ctx, code_handle.raw, _UNCANCELABLE_TASK_CALLBACK_ID)
        results = context._non_cancelable_mr_task_results_queue
        try:
            answer_handle = results.get(timeout=timeout)
        except queue.Empty:
            context._dll.mr_cancel_task(context._ctx, task)
            try:
                results.get(timeout=_CANCEL_WAIT_SECONDS)
            except queue.Empty:
                # Cancelling stops only a running evaluation, not promise jobs V8 runs before a queued one.
                self.stuck = True
            raise TimeoutError from None
        return context._value_handle_to_python(answer_handle)

    def close(self) -> None:
        self._context_manager.__exit__(None, None, None)


class Sandbox:
    """The process's isolates, one per environment (the least recently used dropped past `isolates`), each made on its
    environment's first use and after each discard; and the request it runs, for the environment last `use`d."""

    def __init__(self, *, isolates: int) -> None:
        self._isolates = max(1, isolates)
        self._contexts: OrderedDict[str, Context] = OrderedDict()
        self._environment = ""
        # Made at start, before any request, so the first environment to come need not wait for its isolate.
        self._spare: Context | None = Context()

    def use(self, environment: str) -> None:
        self._environment = environment
        if environment in self._contexts:
            self._contexts.move_to_end(environment)

    def context(self) -> Context:
        context = self._contexts.get(self._environment)
        if context is None:
            while len(self._contexts) >= self._isolates:
                _, least_recent = self._contexts.popitem(last=False)
                least_recent.close()
            context, self._spare = self._spare or Context(), None
            self._contexts[self._environment] = context
        return context

    def discard(self) -> None:
        context = self._contexts.pop(self._environment, None)
        if context is not None:
            context.close()

    def allowed_bytes(self, baseline: int) -> int:
        return baseline + len(self._contexts) * ISOLATE_ALLOWANCE_BYTES + TRIM_ABOVE_BYTES

    def trim(self, *, baseline: int) -> bool:
        """After a request: whether the process holds no more than it is allowed, once the garbage of the request's
        isolate is collected, or failing that, the isolate dropped."""
        if _rss_bytes() <= self.allowed_bytes(baseline):
            return True
        context = self._contexts.get(self._environment)
        if context is not None:
            context.racer.low_memory_notification()
            if _rss_bytes() <= self.allowed_bytes(baseline):
                return True
            self.discard()
        return _rss_bytes() <= self.allowed_bytes(baseline)

    def check(self, script: str) -> dict:
        context = self.context()
        code = f"{_RUNNER}.check({context.token},{json.dumps(_normalise_newlines(script))})"
        try:
            context.evaluate(code, timeout=SYNTAX_CHECK_TIMEOUT_MS / 1000)
        except TimeoutError:
            self.discard()
            return _error("timeout", f"compiling the script took longer than {SYNTAX_CHECK_TIMEOUT_MS} ms")
        except JSEvalException as error:
            message, line = _describe_js_error(str(error), script=script, trust_any_source=True)
            return _error("syntax_error", message, line=line)
        return {"status": "ok"}

    def run_all(self, script: str, events: list[str], request: Request, answer) -> None:
        """Run the script on each event, calling answer(index, report, output) as runs end, slice by slice.

        The last run's answer waits for the request to settle, so it carries what promise jobs logged after it.
        """
        held: list = []

        def hold(index: int, report: dict, output: str) -> None:
            if held:
                answer(*held.pop())
            if "rerun_ms" in report:
                answer(index, report, output)
            else:
                held.append((index, report, output))

        index = 0
        while index < len(events):
            if reason := request.spent():
                # The rest would hold a sandbox others need: it is tried again later (the parent's SandboxFailure).
                for deferred in range(index, len(events)):
                    hold(deferred, _error("deferred", reason), "")
                break
            index += self._run_slice(script, events, index, request, hold)
        late_logs = self.settle(request.limits)
        if held:
            index, report, output = held.pop()
            if late_logs and "logs" in report:
                report = {**report, "logs": [*report["logs"], *late_logs]}
            answer(index, report, output)

    def settle(self, limits: MappingLimits) -> list[str]:
        """Wait out the promise jobs the runs left, within a share of a run's limit, so they cannot reach the next
        request. What they logged, if they ended."""
        context = self._contexts.get(self._environment)
        if context is None:
            return []
        try:
            text = context.evaluate(
                f"{_RUNNER}.settle({context.token})", timeout=limits.timeout_ms * SETTLE_SHARE / 1000
            )
            settled = json.loads(text)
        except (TimeoutError, JSEvalException):
            settled = {"clean": False, "logs": []}
        if not settled["clean"]:
            self.discard()
        return settled["logs"]

    def _run_slice(
        self, script: str, events: list[str], start: int, request: Request, answer, *, limits=None, last_try=False
    ):
        """Run events from `start` (a chunk of at most CHUNK_BYTES) in one evaluation; how many runs it answered.

        A last try (a re-run, or a run again in a fresh context) runs its one event alone and is not tried again.
        """
        limits = limits or request.limits
        chunk, size = [], 0
        for event_json in events[start : start + 1] if last_try else events[start:]:
            if chunk and size + len(event_json) > CHUNK_BYTES:
                break
            chunk.append(event_json)
            size += len(event_json)
        context = self.context()
        context.use_memory_limit(limits.memory_bytes)
        first_seq = context.seq
        context.seq += len(chunk)
        slice_ms = limits.timeout_ms * SLICE_SHARE
        code = (
            f"{_RUNNER}.runMany({context.token},{first_seq},{json.dumps(_normalise_newlines(script))},"
            f"[{','.join(json.dumps(event_json) for event_json in chunk)}],{int(limits.output_bytes)},"
            f"{int(limits.log_chars)},{limits.timeout_ms},{slice_ms},{secrets.randbits(31)})"
        )
        cpu_started, wall_started = time.process_time(), time.monotonic()
        try:
            reports = context.evaluate(
                code, timeout=(slice_ms + limits.timeout_ms) / 1000 + size * READ_SECONDS_PER_BYTE
            )
        except TimeoutError:
            request.charge(time.monotonic() - wall_started, timed_out=True)
            reports = self._take_after_failure(context)[:-1]
            failed = _error("timeout", f"the script ran longer than the limit of {request.limits.timeout_ms} ms")
            if context.racer.was_hard_memory_limit_reached():
                failed = _error("memory_limit", memory_message(limits.memory_bytes))
            self.discard()
            done = self._answer_reports(reports, start, first_seq, len(chunk), script, limits, answer)
            if done is None:
                return self._answer_internal(start, answer)
            starved = was_starved(
                cpu_seconds=time.process_time() - cpu_started, wall_seconds=time.monotonic() - wall_started
            )
            if failed["kind"] == "timeout" and starved and not last_try and request.rerun_allowed():
                # The machine, not the script, took the time: once more with a longer limit, alone.
                longer = replace(limits, timeout_ms=limits.timeout_ms * RERUN_FACTOR)
                answer(start + done, {"rerun_ms": longer.timeout_ms}, "")
                return done + self._run_slice(
                    script, events, start + done, request, answer, limits=longer, last_try=True
                )
            if failed["kind"] == "memory_limit" and first_seq + done > 0 and not last_try:
                return done + self._run_fresh(script, events, start + done, request, answer)
            answer(start + done, failed, "")
            return done + 1
        except JSEvalException as error:
            request.charge(time.monotonic() - wall_started)
            reports = self._take_after_failure(context)
            done = self._answer_reports(reports[:-1], start, first_seq, len(chunk), script, limits, answer)
            out_of_memory = context.racer.was_hard_memory_limit_reached() or isinstance(error, JSOOMException)
            if done is None or out_of_memory or not reports:
                self.discard()
                if done is None:
                    return self._answer_internal(start, answer)
                if out_of_memory and not last_try:
                    return done + self._run_fresh(script, events, start + done, request, answer)
                kind = "memory_limit" if out_of_memory else "internal"
                message = memory_message(limits.memory_bytes) if out_of_memory else f"the sandbox failed: {error}"
                answer(start + done, _error(kind, message), "")
                return done + 1
            header, output = _report_split(reports[-1])
            report = self._interpret(header, output, first_seq + done, script, limits, error)
            answer(start + done, report, "")
            return done + 1
        request.charge(time.monotonic() - wall_started)
        if context.racer.was_hard_memory_limit_reached():
            self.discard()
        done = self._answer_reports(
            reports.split("\0") if reports else [], start, first_seq, len(chunk), script, limits, answer
        )
        if done is None or done == 0:
            self.discard()
            return self._answer_internal(start, answer)
        return done

    def _run_fresh(self, script: str, events: list[str], index: int, request: Request, answer) -> int:
        # V8 counts garbage left by earlier runs as used heap: only a fresh context shows whether the script fits.
        self.discard()
        return self._run_slice(script, events, index, request, answer, last_try=True)

    def _answer_internal(self, start: int, answer) -> int:
        answer(start, _error("internal", "the mapping sandbox answered out of turn"), "")
        return 1

    def _take_after_failure(self, context: Context) -> list[str]:
        """After a failed slice: the reports of the runs that ended, then the failed run's (moot if it was stopped)."""
        if context.stuck:
            return []
        try:
            text = context.evaluate(f"{_RUNNER}.takeFailed({context.token})", timeout=_CANCEL_WAIT_SECONDS * 5)
        except (TimeoutError, JSEvalException):
            return []
        return text.split("\0") if text else []

    def _answer_reports(self, reports, start, first_seq, count, script, limits, answer) -> int | None:
        """Answer each report in turn; None (and nothing answered) if they are not the runs asked for, in order."""
        parsed = [_report_split(text) for text in reports]
        if len(parsed) > count or any(header["seq"] != first_seq + offset for offset, (header, _) in enumerate(parsed)):
            return None
        for offset, (header, output) in enumerate(parsed):
            answer(start + offset, self._interpret(header, output, first_seq + offset, script, limits), output)
        return len(parsed)

    def _interpret(self, header: dict, output: str, seq: int, script: str, limits: MappingLimits, error=None) -> dict:
        """What one run's report (and the exception it threw, if any) means for the parent."""
        if header["seq"] != seq:
            self.discard()
            return _error("internal", f"the mapping sandbox answered for another run than run {seq}")
        if not header["clean"]:
            # The script left something behind that cannot be undone (e.g. a non-configurable global): start afresh.
            self.discard()
        logs = header["logs"]
        if error is not None:
            if header["phase"] == "compile":
                message, line = _describe_js_error(str(error), script=script, trust_any_source=True)
                return _error("syntax_error", message, line=line, logs=logs)
            if header["phase"] == "run":
                message, line = _describe_js_error(str(error), script=script, trust_any_source=False)
                return _error("runtime_error", message, line=line, logs=logs)
            self.discard()
            return _error("internal", f"the mapping sandbox failed in phase {header['phase']}: {error}")
        status = header["status"]
        if status == "skipped":
            return {"status": "skipped", "logs": logs}
        if status == "timeout":
            return _error("timeout", f"the script ran longer than the limit of {limits.timeout_ms} ms", logs=logs)
        if status == "not_json":
            return _error("output_not_json", header["message"], logs=logs)
        too_large = f"the output's JSON is larger than the limit of {limits.output_bytes} bytes"
        if status == "too_large":
            return _error("output_too_large", too_large, logs=logs)
        if status != "ok":
            return _error("internal", f"the mapping sandbox reported an unknown status {status!r}")
        if len(output) > limits.output_bytes or (
            not output.isascii() and len(output.encode("utf-8", "surrogatepass")) > limits.output_bytes
        ):
            return _error("output_too_large", too_large, logs=logs)
        return {"status": "ok", "logs": logs}


class Request:
    """One request's share of the sandbox: its limits, the time its runs took, its timeouts, its one re-run."""

    def __init__(self, limits: MappingLimits) -> None:
        self.limits = limits
        self._budget_seconds = limits.timeout_ms * REQUEST_BUDGET_RUNS / 1000
        self._seconds = 0.0
        self._timeouts = 0
        self._reran = False

    def charge(self, seconds: float, *, timed_out: bool = False) -> None:
        self._seconds += seconds
        self._timeouts += timed_out

    def spent(self) -> str:
        """Why the rest of the request is put off, or '' while it may go on."""
        if self._timeouts >= REQUEST_TIMEOUTS:
            return f"not run: {self._timeouts} earlier runs of this script in the batch ran out of time"
        if self._seconds >= self._budget_seconds:
            return f"not run: the batch's runs took {self._seconds * 1000:.0f} ms of the sandbox already"
        return ""

    def rerun_allowed(self) -> bool:
        if self._reran:
            return False
        self._reran = True
        return True


def was_starved(*, cpu_seconds: float, wall_seconds: float) -> bool:
    """Whether a run that timed out lost its time to a busy machine: JavaScript here never waits, so a process
    that had under half the wall-clock time on a CPU was kept from it."""
    return cpu_seconds < wall_seconds / 2


def _report_split(text: str) -> tuple[dict, str]:
    header_text, _, output = text.partition("\n")
    return json.loads(header_text), output


def _error(kind: str, message: str, *, line: int | None = None, logs: list | None = None) -> dict:
    return {"status": "error", "kind": kind, "message": message, "line": line, "logs": logs or []}


_LOCATION = re.compile(r"\A(?P<source>[^\n]*?):(?P<line>\d+): ")
_CARET_LINE = re.compile(r"\s*\^+\s*")


def _describe_js_error(text: str, *, script: str, trust_any_source: bool) -> tuple[str, int | None]:
    """Split mini-racer's `source:line: message\\n<source line>\\n<carets>...` into the message and the script line."""
    match = _LOCATION.match(text)
    if match is None:
        return (text.strip().split("\n", 1)[0] or "the script failed"), None
    rest = text[match.end() :].split("\n")
    message_lines = rest[:1]
    for index in range(1, len(rest) - 1):
        if _CARET_LINE.fullmatch(rest[index + 1]):
            message_lines = rest[:index]
            break
    message = "\n".join(message_lines).strip() or "the script failed"
    # Code the script built itself (eval, new Function) has its own line numbers, which would mislead.
    if not trust_any_source and match["source"] != _SCRIPT_NAME:
        return message, None
    script_lines = _normalise_newlines(script).count("\n") + 1
    line = int(match["line"]) - _WRAPPER_LINES
    if line > script_lines:
        # V8 stumbled on the wrapper's closing lines: something in the script was left open.
        return "SyntaxError: Unexpected end of script (is a bracket, brace or string left open?)", script_lines
    return message, max(line, 1)


def _normalise_newlines(script: str) -> str:
    # JavaScript reads CRLF and CR as line ends too; one form keeps our line counting equal to V8's.
    return script.replace("\r\n", "\n").replace("\r", "\n")


def _read_exactly(stream, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def serve(requests, answers, *, isolates: int) -> None:
    """Answer requests until the parent closes our stdin; a request's runs are answered one by one as they end."""
    sandbox = Sandbox(isolates=isolates)
    watch = MemoryWatch()
    baseline = _rss_bytes()
    answers.write(answer({"ready": True, "rss": baseline}))
    answers.flush()
    while (length := _read_exactly(requests, FRAME_HEADER_BYTES)) is not None:
        payload = _read_exactly(requests, frame_length(length))
        if payload is None:
            return
        header, events = request_parse(payload)
        limits = MappingLimits(**header["limits"])
        sandbox.use(header["environment"])
        # The isolates other environments keep are part of the process, not of this request's allowance.
        watch.arm(_rss_bytes() + 2 * limits.memory_bytes + MEMORY_SLACK_BYTES)
        try:
            if header["op"] == "check":
                answers.write(answer({"i": 0, **sandbox.check(header["script"])}))
            else:

                def send(index: int, report: dict, output: str) -> None:
                    answers.write(answer({"i": index, **report}, output if report.get("status") == "ok" else ""))
                    answers.flush()

                sandbox.run_all(header["script"], events, Request(limits), send)
                # Garbage left resident would count against the next request's allowance, maybe another tenant's.
                answers.write(answer({"done": True, "recycle": not sandbox.trim(baseline=baseline)}))
            answers.flush()
        finally:
            watch.disarm()


def main() -> None:
    parser = argparse.ArgumentParser(description="A mapping sandbox process (started by mapping/sandbox.py).")
    parser.add_argument("--isolates", type=int, default=1, help="environments' isolates kept at most")
    arguments = parser.parse_args()
    init_mini_racer(ignore_duplicate_init=True)
    serve(sys.stdin.buffer, sys.stdout.buffer, isolates=arguments.isolates)


if __name__ == "__main__":
    main()

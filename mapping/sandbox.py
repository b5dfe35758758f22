"""Runs a customer's JavaScript mapping in a locked-down V8 context (mini-racer), one reused context per thread."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from dataclasses import dataclass

from py_mini_racer import JSEvalException, JSOOMException, MiniRacer, init_mini_racer, mini_racer

DEFAULT_TIMEOUT_MS = 50
DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024
DEFAULT_MAX_MEMORY_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_LOG_CHARS = 64 * 1024
# Compiling only parses, so this is a guard against pathological input rather than a customer-facing limit.
SYNTAX_CHECK_TIMEOUT_MS = 1000

# The customer's code sits inside `(function anonymous(event\n) {\n` ... `\n})`, two lines below its own line 1.
_WRAPPER_LINES = 2
_SCRIPT_NAME = "mapping.js"
_RUNNER = "__outflowMapping"


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


def mapping_syntax_error(*, script: str) -> MappingError | None:
    """Compile the script without running it; the error (with its line) if it does not compile, else None."""
    sandbox = _sandbox()
    code = f"{_RUNNER}.check({json.dumps(_normalise_newlines(script))})"
    try:
        sandbox.racer.eval(code, timeout_sec=SYNTAX_CHECK_TIMEOUT_MS / 1000)
    except TimeoutError:
        _discard(sandbox)
        return MappingTimeout(f"compiling the script took longer than {SYNTAX_CHECK_TIMEOUT_MS} ms")
    except JSEvalException as error:
        message, line = _describe_js_error(str(error), script=script, trust_any_source=True)
        return MappingSyntaxError(message, line=line)
    return None


def mapping_run(
    *,
    script: str,
    event: dict,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
    max_log_chars: int = DEFAULT_MAX_LOG_CHARS,
) -> MappingResult:
    """Run the script as the body of `function (event)`; its return value is the payload (null/undefined skip)."""
    event_json = json.dumps(event, allow_nan=False, separators=(",", ":"))
    sandbox = _sandbox()
    try:
        return _run_once(sandbox, script, event_json, timeout_ms, max_output_bytes, max_memory_bytes, max_log_chars)
    except MappingMemoryLimit:
        if sandbox.seq == 1:
            raise
    # V8 counts garbage left by earlier runs as used heap, so only a fresh context shows whether the script itself fits.
    return _run_once(_sandbox(), script, event_json, timeout_ms, max_output_bytes, max_memory_bytes, max_log_chars)


def _run_once(
    sandbox: _Sandbox,
    script: str,
    event_json: str,
    timeout_ms: int,
    max_output_bytes: int,
    max_memory_bytes: int,
    max_log_chars: int,
) -> MappingResult:
    sandbox.use_memory_limit(max_memory_bytes)
    sandbox.seq += 1
    seq = sandbox.seq
    run_code = (
        f"{_RUNNER}.run({seq},{json.dumps(_normalise_newlines(script))},{json.dumps(event_json)},"
        f"{int(max_output_bytes)},{int(max_log_chars)})"
    )
    take_code = f"{_RUNNER}.take({seq})"
    # The second eval returns the result and, being queued behind the first, also waits out any promise jobs the
    # script left (V8 runs them between tasks, outside any cancelable task), so they count against the time limit.
    future = asyncio.run_coroutine_threadsafe(
        _eval_pair(sandbox.racer, run_code, take_code, timeout_ms / 1000), _loop()
    )
    try:
        run_error, report_text = future.result()
    except TimeoutError:
        out_of_memory = sandbox.racer.was_hard_memory_limit_reached()
        _discard(sandbox)
        if out_of_memory:
            raise MappingMemoryLimit(_memory_message(max_memory_bytes)) from None
        raise MappingTimeout(f"the script ran longer than the limit of {timeout_ms} ms") from None
    except JSEvalException as error:
        out_of_memory = sandbox.racer.was_hard_memory_limit_reached()
        _discard(sandbox)
        if out_of_memory or isinstance(error, JSOOMException):
            raise MappingMemoryLimit(_memory_message(max_memory_bytes)) from None
        raise RuntimeError(f"the mapping sandbox failed: {error}") from error

    if sandbox.racer.was_hard_memory_limit_reached() or isinstance(run_error, JSOOMException):
        _discard(sandbox)
        raise MappingMemoryLimit(_memory_message(max_memory_bytes))

    header_text, _, output_json = str(report_text).partition("\n")
    report = json.loads(header_text)
    if report["seq"] != seq:
        _discard(sandbox)
        raise RuntimeError(f"the mapping sandbox answered for another run than run {seq}")
    if not report["clean"]:
        # The script left something behind that cannot be undone (e.g. a non-configurable global): start afresh.
        _discard(sandbox)
    logs = report["logs"]

    if run_error is not None:
        if report["phase"] == "compile":
            message, line = _describe_js_error(str(run_error), script=script, trust_any_source=True)
            raise MappingSyntaxError(message, line=line, logs=logs)
        if report["phase"] == "run":
            message, line = _describe_js_error(str(run_error), script=script, trust_any_source=False)
            raise MappingRuntimeError(message, line=line, logs=logs)
        _discard(sandbox)
        raise RuntimeError(f"the mapping sandbox failed in phase {report['phase']}: {run_error}")

    status = report["status"]
    if status == "skipped":
        return MappingResult(output=None, skipped=True, logs=logs)
    if status == "not_json":
        raise MappingOutputNotJSON(report["message"], logs=logs)
    too_large_message = f"the output's JSON is larger than the limit of {max_output_bytes} bytes"
    if status == "too_large":
        raise MappingOutputTooLarge(too_large_message, logs=logs)
    if status != "ok":
        raise RuntimeError(f"the mapping sandbox reported an unknown status {status!r}")
    if len(output_json) > max_output_bytes or (
        not output_json.isascii() and len(output_json.encode("utf-8", "surrogatepass")) > max_output_bytes
    ):
        raise MappingOutputTooLarge(too_large_message, logs=logs)
    return MappingResult(output=json.loads(output_json), skipped=False, logs=logs)


# --- errors -----------------------------------------------------------------------------------------------------------

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


def _memory_message(max_memory_bytes: int) -> str:
    return f"the script used more than the memory limit of {max_memory_bytes / (1024 * 1024):g} MiB"


def _normalise_newlines(script: str) -> str:
    # JavaScript reads CRLF and CR as line ends too; one form keeps our line counting equal to V8's.
    return script.replace("\r\n", "\n").replace("\r", "\n")


# --- contexts ---------------------------------------------------------------------------------------------------------


class _Sandbox:
    """A V8 context prepared by _PRELUDE, used by one thread at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._context_manager = mini_racer(event_loop=loop)
        self.racer: MiniRacer = self._context_manager.__enter__()
        self.seq = 0
        self._memory_limit: int | None = None
        try:
            self.racer.eval(_PRELUDE)
        except BaseException:
            self.close()
            raise

    def use_memory_limit(self, limit: int) -> None:
        if limit != self._memory_limit:
            self.racer.set_hard_memory_limit(limit)
            self._memory_limit = limit

    def close(self) -> None:
        # Freeing the context also terminates any JavaScript still running in it.
        self._context_manager.__exit__(None, None, None)


async def _eval_pair(racer: MiniRacer, first: str, second: str, timeout: float) -> tuple[Exception | None, object]:
    """Evaluate two snippets back to back within one deadline: the first's error (if any) and the second's value."""
    first_task = asyncio.ensure_future(racer.eval_cancelable(first))
    try:
        second_value = await asyncio.wait_for(racer.eval_cancelable(second), timeout)
    except BaseException:
        first_task.cancel()
        await asyncio.gather(first_task, return_exceptions=True)
        raise
    try:
        await first_task
    except JSEvalException as error:
        return error, second_value
    return None, second_value


_state_lock = threading.Lock()
_event_loop: asyncio.AbstractEventLoop | None = None
_local = threading.local()
_started_before_fork = False
# What a forked child inherited; freeing it would wait forever on V8 threads that did not survive the fork.
_inherited_from_parent: list[object] = []


def _loop() -> asyncio.AbstractEventLoop:
    """One event loop thread shared by every context; it only dispatches, the JavaScript runs on V8's threads."""
    global _event_loop
    with _state_lock:
        if _event_loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="mapping-sandbox-loop", daemon=True).start()
            _event_loop = loop
        return _event_loop


def _sandbox() -> _Sandbox:
    if _started_before_fork:
        raise RuntimeError(
            "this process was forked after its parent had started V8, which cannot then be used in the child; "
            "run mappings only in processes that did not inherit a started mapping sandbox"
        )
    sandbox = getattr(_local, "sandbox", None)
    if sandbox is None:
        sandbox = _local.sandbox = _Sandbox(_loop())
    return sandbox


def _discard(sandbox: _Sandbox) -> None:
    if getattr(_local, "sandbox", None) is sandbox:
        del _local.sandbox
    sandbox.close()


def _forget_state_after_fork() -> None:
    # A forked child inherits neither the loop thread nor V8's threads, and V8 cannot start again in it: fail, not hang.
    global _event_loop, _local, _started_before_fork
    _started_before_fork = True
    _inherited_from_parent.extend([_event_loop, _local])
    _event_loop = None
    _local = threading.local()


# V8 is started when this module is loaded, which is on the main thread as a process starts: started from a worker
# thread instead, making contexts afterwards crashed the process (mini-racer 0.14.1, seen with 16 threads at once).
init_mini_racer(ignore_duplicate_init=True)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_state_after_fork)


# --- the JavaScript side ----------------------------------------------------------------------------------------------

# Runs once per context. It removes what a mapping must not reach, freezes every built-in so nothing a script does to
# them outlives its run, and installs the runner that compiles, runs and serialises one script per call.
_PRELUDE = r"""
(() => {
  'use strict';
  const G = globalThis;
  const {
    apply: reflectApply, defineProperty, deleteProperty, getOwnPropertyDescriptor, getPrototypeOf, isExtensible,
    ownKeys, setPrototypeOf,
  } = Reflect;
  const { defineProperty: objectDefineProperty, freeze } = Object;
  const FunctionConstructor = Function;
  const ErrorConstructor = Error;
  const TypeErrorConstructor = TypeError;
  const PromiseConstructor = Promise;
  const StringConstructor = String;
  const { parse: jsonParse, stringify: jsonStringify } = JSON;

  // mini-racer's timers would fire outside any run and its time limit; `var` bindings cannot be deleted, and its
  // top-level class is a script-scope binding (not a global property) that the sweep resets below.
  for (const name of ['setTimeout', 'clearTimeout', '__timer_manager']) G[name] = undefined;
  __TimerManager = undefined;
  // Binary buffers live outside the V8 heap (and its limit); shared memory can block; finalizers run between runs.
  for (const name of [
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Atomics', 'WebAssembly', 'FinalizationRegistry',
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
    'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  ]) delete G[name];
  // RegExp.$1, RegExp.lastMatch and friends remember the previous run's last match.
  for (const key of ownKeys(RegExp)) {
    if (typeof key === 'string' && getOwnPropertyDescriptor(RegExp, key).get) delete RegExp[key];
  }

  let logs = [];
  let logChars = 0;
  let logLimit = 0;
  let logsTruncated = false;
  const describe = (value) => {
    try {
      if (typeof value === 'string') return value;
      if (value === undefined) return 'undefined';
      if (typeof value === 'function') return `[Function${value.name ? ': ' + value.name : ''}]`;
      if (typeof value === 'bigint') return `${value}n`;
      if (typeof value === 'symbol') return StringConstructor(value);
      if (value instanceof ErrorConstructor) return `${value.name}: ${value.message}`;
      const json = jsonStringify(value);
      if (json !== undefined) return json;
    } catch {
      // Fall through: circular objects, throwing getters and BigInts inside objects still get a description.
    }
    try {
      return StringConstructor(value);
    } catch {
      return '[object]';
    }
  };
  const log = (...args) => {
    if (logsTruncated) return;
    let line = '';
    for (let i = 0; i < args.length; i++) line += (i ? ' ' : '') + describe(args[i]);
    if (logChars + line.length + 1 > logLimit) {
      logsTruncated = true;
      logs.push('[further console output dropped]');
      return;
    }
    logChars += line.length + 1;
    logs.push(line);
  };
  G.console = { log, info: log, warn: log, error: log, debug: log, trace: log };

  // A frozen built-in data property makes `obj.name = ...` throw on objects inheriting it (the "override mistake");
  // turning the common ones into accessors lets such assignments create an own property as usual.
  const allowOverride = (proto, key) => {
    const descriptor = getOwnPropertyDescriptor(proto, key);
    if (!descriptor || !('value' in descriptor)) return;
    const value = descriptor.value;
    defineProperty(proto, key, {
      get() {
        return value;
      },
      set(newValue) {
        if (this === proto) throw new TypeErrorConstructor(`Cannot assign to read-only built-in property '${key}'`);
        objectDefineProperty(this, key, { value: newValue, writable: true, enumerable: true, configurable: true });
      },
      enumerable: descriptor.enumerable,
      configurable: false,
    });
  };
  for (const key of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) allowOverride(Object.prototype, key);
  for (const E of [
    Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError, SuppressedError,
  ]) {
    for (const key of ['constructor', 'name', 'message']) allowOverride(E.prototype, key);
  }

  let busy = false;
  let seq = -1;
  let phase = 'idle';
  let status = '';
  let message = '';
  let outputJson = '';
  let startedClean = true;
  const NOT_JSON = {};
  let notJsonReason = '';
  const replacer = (key, value) => {
    const type = typeof value;
    if (type === 'function' || type === 'symbol' || type === 'bigint') {
      notJsonReason = key === '' ? `the script returned a ${type}, which JSON cannot hold`
        : `the output holds a ${type} at key "${key}", which JSON cannot hold`;
      throw NOT_JSON;
    }
    return value;
  };
  const serialise = (output, maxChars) => {
    try {
      if (output === undefined || output === null) {
        status = 'skipped';
        return;
      }
      if (output instanceof PromiseConstructor) {
        status = 'not_json';
        message = 'the script returned a Promise; mappings run synchronously, so return the value itself';
        return;
      }
      const json = jsonStringify(output, replacer);
      if (json === undefined) {
        status = 'not_json';
        message = `the script returned a ${typeof output}, which JSON cannot hold`;
      } else if (json.length > maxChars) {
        status = 'too_large';
      } else {
        status = 'ok';
        outputJson = json;
      }
    } catch (error) {
      status = 'not_json';
      message = error === NOT_JSON ? notJsonReason : `the output could not be turned into JSON: ${describe(error)}`;
    }
  };
  const compile = (script) => FunctionConstructor('event', `'use strict';${script}\n//# sourceURL=mapping.js`);

  const runner = {
    run(n, script, eventJson, maxOutputChars, maxLogChars) {
      if (busy) throw new ErrorConstructor('the mapping runner is not re-entrant');
      busy = true;
      try {
        seq = n;
        phase = 'event';
        status = '';
        message = '';
        outputJson = '';
        logs = [];
        logChars = 0;
        logLimit = maxLogChars;
        logsTruncated = false;
        startedClean = sweep();
        const event = jsonParse(eventJson);
        phase = 'compile';
        const fn = compile(script);
        phase = 'run';
        // No catch: an uncaught exception keeps V8's note of the line it was thrown from.
        const output = reflectApply(fn, undefined, [event]);
        phase = 'output';
        serialise(output, maxOutputChars);
        phase = 'done';
      } finally {
        busy = false;
      }
    },
    take(n) {
      if (busy) throw new ErrorConstructor('the mapping runner is not re-entrant');
      const clean = sweep() && startedClean;
      const header = jsonStringify({ seq: n === seq ? seq : -1, phase, status, message, logs, clean });
      const body = outputJson;
      logs = [];
      outputJson = '';
      return header + '\n' + body;
    },
    check(script) {
      compile(script);
      return true;
    },
  };
  defineProperty(G, '__outflowMapping', { value: runner, writable: false, enumerable: false, configurable: false });

  // Freeze every built-in reachable from the global object, plus the intrinsics only reachable through syntax.
  const seen = new Set();
  const pending = [];
  const visit = (value) => {
    if (((typeof value === 'object' && value !== null) || typeof value === 'function') && value !== G) {
      if (!seen.has(value)) {
        seen.add(value);
        pending.push(value);
      }
    }
  };
  for (const key of ownKeys(G)) {
    const descriptor = getOwnPropertyDescriptor(G, key);
    visit(descriptor.value);
    visit(descriptor.get);
    visit(descriptor.set);
  }
  for (const value of [
    function* () {}, async function () {}, async function* () {}, async () => {},
    [][Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), ''[Symbol.iterator](),
    /./[Symbol.matchAll](''), [].values().map((x) => x), Iterator.from({ next() {} }),
    new Intl.Segmenter().segment(''), new Intl.Segmenter().segment('')[Symbol.iterator](),
    (function* () {})(), (async function* () {})(), (function () { return arguments; })(),
  ]) {
    visit(getPrototypeOf(value));
  }
  while (pending.length) {
    const object = pending.pop();
    for (const key of ownKeys(object)) {
      const descriptor = getOwnPropertyDescriptor(object, key);
      visit(descriptor.value);
      visit(descriptor.get);
      visit(descriptor.set);
    }
    visit(getPrototypeOf(object));
    freeze(object);
  }

  // The global object itself stays extensible so scripts may use it as scratch space; what they add is swept away.
  for (const key of ownKeys(G)) {
    const descriptor = getOwnPropertyDescriptor(G, key);
    defineProperty(G, key, 'value' in descriptor ? { writable: false, configurable: false } : { configurable: false });
  }
  const baseline = new Set(ownKeys(G));
  const globalPrototype = getPrototypeOf(G);
  // False when the global object cannot be put back as it was, so the caller must replace the whole context.
  const sweep = () => {
    let clean = true;
    const keys = ownKeys(G);
    if (keys.length !== baseline.size) {
      for (const key of keys) {
        if (!baseline.has(key) && !deleteProperty(G, key)) clean = false;
      }
    }
    if (getPrototypeOf(G) !== globalPrototype && !setPrototypeOf(G, globalPrototype)) clean = false;
    if (__TimerManager !== undefined) __TimerManager = undefined;
    return clean && isExtensible(G);
  };
})();
"""

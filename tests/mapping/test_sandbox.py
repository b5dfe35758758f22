"""The JavaScript mapping sandbox: output, errors with lines, limits, isolation between runs, threads and processes."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mapping import sandbox, sandbox_process
from mapping.sandbox import (
    MappingError,
    MappingLimits,
    MappingMemoryLimit,
    MappingOutputNotJSON,
    MappingOutputTooLarge,
    MappingRuntimeError,
    MappingSyntaxError,
    MappingTimeout,
    mapping_syntax_error,
)
from tests.memory_peak import PeakMemory, rss_bytes

# The environment whose isolate these runs get (tests of isolation between environments name their own).
ENVIRONMENT = "environment-under-test"


def mapping_run(*, script: str, event: dict, **limits):
    """Tests about what a script does get a time limit no scheduler hiccup on a loaded machine can reach;
    the tests about the limit itself pass theirs."""
    return sandbox.mapping_run(
        environment_id=ENVIRONMENT, script=script, event=event, limits=MappingLimits(**{"timeout_ms": 2000, **limits})
    )


EVENT = {
    "id": "evt_1",
    "name": "survey.response",
    "properties": {"values": {"rating": 4, "comment": "Great"}, "user": {"id": "u_1"}},
}


@pytest.fixture
def warm_context():
    """Time-sensitive tests measure a run, not the start of a sandbox process."""
    mapping_run(script="return 1", event={})


def test_the_returned_value_becomes_the_payload():
    result = mapping_run(
        script="return {id: event.id, rating: event.properties.values.rating, tags: ['a', 'b']}",
        event=EVENT,
    )

    assert result.output == {"id": "evt_1", "rating": 4, "tags": ["a", "b"]}
    assert result.skipped is False
    assert result.logs == []


def test_event_text_is_data_not_code():
    hostile = "'); globalThis.pwned = 1; ('\u2028\u2029\"`${1}`</script>\\"
    event = {"text": hostile, "emoji": "\U0001f600", "nested": {"list": [1, 2.5, None, True]}}

    result = mapping_run(script="return {echo: event, pwned: typeof pwned}", event=event)

    assert result.output == {"echo": event, "pwned": "undefined"}


@pytest.mark.parametrize("script", ["return null", "return undefined", "return", "const unused = 1;"])
def test_returning_null_or_undefined_skips_the_delivery(script):
    result = mapping_run(script=script, event=EVENT)

    assert result.skipped is True
    assert result.output is None


def test_a_thrown_error_reports_its_line_in_the_customer_script():
    script = (
        "const rating = event.properties.values.rating;\nif (rating < 5) {\n  throw new Error('rating too low');\n}"
    )

    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script=script, event=EVENT)

    assert caught.value.kind == "runtime_error"
    assert caught.value.line == 3
    assert caught.value.message == "Error: rating too low"


def test_a_thrown_string_reports_its_line():
    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script="const a = 1;\n\n\nthrow 'missing rating';", event=EVENT)

    assert caught.value.line == 4
    assert caught.value.message == "missing rating"


def test_an_error_inside_a_callback_reports_the_callback_line():
    script = "const items = [{n: 1}, {}];\nreturn items.map((item) =>\n  item.n.toFixed(2)\n);"

    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script=script, event=EVENT)

    assert caught.value.line == 3
    assert "TypeError" in caught.value.message


def test_reading_a_missing_property_is_a_runtime_error_with_its_line():
    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script="\nreturn event.missing.value", event=EVENT)

    assert caught.value.line == 2
    assert "Cannot read properties of undefined" in caught.value.message


def test_syntax_check_gives_the_line_of_the_error():
    error = mapping_syntax_error(environment_id=ENVIRONMENT, script="const a = 1;\nconst b = ;\nreturn a;")

    assert isinstance(error, MappingSyntaxError)
    assert error.kind == "syntax_error"
    assert error.line == 2
    assert error.message.startswith("SyntaxError")


def test_syntax_check_finds_errors_inside_inner_functions():
    error = mapping_syntax_error(environment_id=ENVIRONMENT, script="return 1;\nfunction f() {\n  let a; let a;\n}")

    assert error is not None
    assert error.line == 3
    assert "already been declared" in error.message


def test_syntax_check_accepts_a_valid_script_without_running_it():
    assert mapping_syntax_error(environment_id=ENVIRONMENT, script="while (true) {}\nreturn event.id") is None


def test_an_unclosed_brace_is_reported_at_the_end_of_the_script():
    error = mapping_syntax_error(environment_id=ENVIRONMENT, script="return {\n  id: event.id,\n")

    assert error is not None
    assert error.line == 3
    assert "end of script" in error.message


def test_running_a_script_that_does_not_compile_raises_a_syntax_error():
    with pytest.raises(MappingSyntaxError) as caught:
        mapping_run(script="const a = 1;\nreturn a +;", event=EVENT)

    assert caught.value.line == 2


def test_a_script_cannot_break_out_of_its_function():
    with pytest.raises(MappingSyntaxError):
        mapping_run(script="return 1; }); globalThis.escaped = 1; (function () {", event=EVENT)

    assert mapping_run(script="return typeof escaped", event=EVENT).output == "undefined"


def test_an_endless_loop_is_stopped_within_twice_the_time_limit(warm_context):
    started = time.monotonic()
    with pytest.raises(MappingTimeout) as caught:
        mapping_run(script="while (true) {}", event=EVENT, timeout_ms=50)
    elapsed = time.monotonic() - started

    assert caught.value.kind == "timeout"
    assert elapsed < 0.100
    assert mapping_run(script="return event.id", event=EVENT).output == "evt_1"


def test_an_endless_promise_job_is_stopped_and_never_reaches_the_next_run(warm_context):
    script = "(async () => { await null; while (true) {} })();\nreturn 1;"

    started = time.monotonic()
    # The run's value was made before the job ran; the job is stopped within the limit when the request settles.
    assert mapping_run(script=script, event=EVENT, timeout_ms=50).output == 1
    elapsed = time.monotonic() - started
    assert elapsed < 0.200

    started = time.monotonic()
    assert mapping_run(script="return 2", event=EVENT, timeout_ms=50).output == 2
    assert time.monotonic() - started < 0.100


def test_a_memory_bomb_is_stopped_and_the_next_run_still_works():
    with pytest.raises(MappingMemoryLimit) as caught:
        mapping_run(
            script="let a = [];\nwhile (true) a.push(new Array(1e6).fill(1));",
            event=EVENT,
            timeout_ms=10_000,
            memory_bytes=32 * 1024 * 1024,
        )

    assert caught.value.kind == "memory_limit"
    assert mapping_run(script="return event.id", event=EVENT).output == "evt_1"


def test_garbage_from_earlier_runs_does_not_count_against_a_later_run():
    # Each run holds ~12 MiB at its peak; reused contexts would otherwise hit the 32 MiB limit now and then.
    script = "const a = [];\nfor (let i = 0; i < 300000; i++) a.push({i, s: 'x' + i});\nreturn a.length;"

    outputs = [
        mapping_run(script=script, event=EVENT, timeout_ms=10_000, memory_bytes=32 * 1024 * 1024).output
        for _ in range(20)
    ]

    assert outputs == [300000] * 20


def test_binary_buffers_which_live_outside_the_heap_limit_are_unavailable():
    result = mapping_run(
        script="return [typeof ArrayBuffer, typeof Uint8Array, typeof SharedArrayBuffer, typeof WebAssembly]",
        event=EVENT,
    )

    assert result.output == ["undefined"] * 4


def test_output_over_the_size_limit_is_refused():
    with pytest.raises(MappingOutputTooLarge) as caught:
        mapping_run(script="return 'x'.repeat(2000)", event=EVENT, output_bytes=1000)

    assert caught.value.kind == "output_too_large"


def test_output_size_is_counted_in_utf8_bytes():
    # 400 characters, 800 bytes of UTF-8 (plus two quotes).
    script = "return 'é'.repeat(400)"

    with pytest.raises(MappingOutputTooLarge):
        mapping_run(script=script, event=EVENT, output_bytes=500)
    assert mapping_run(script=script, event=EVENT, output_bytes=802).output == "é" * 400


def test_output_exactly_at_the_limit_is_accepted():
    result = mapping_run(script="return 'x'.repeat(98)", event=EVENT, output_bytes=100)

    assert result.output == "x" * 98


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("return () => 1", "returned a function"),
        ("return 10n", "returned a bigint"),
        ("return Symbol('s')", "returned a symbol"),
        ("return {callback() {}}", 'a function at key "callback"'),
        ("return {count: [1n]}", 'a bigint at key "0"'),
        ("const o = {};\no.self = o;\nreturn o;", "circular"),
        ("return Promise.resolve(1)", "Promise"),
    ],
)
def test_output_that_is_not_json_is_refused(script, expected):
    with pytest.raises(MappingOutputNotJSON) as caught:
        mapping_run(script=script, event=EVENT)

    assert caught.value.kind == "output_not_json"
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("globalThis.leak = 1", "return typeof globalThis.leak"),
        ("(0, eval)('var leak = 1; function leakFn() {}')", "return typeof leak + typeof leakFn"),
        ("Object.defineProperty(globalThis, 'leak', {value: 1})", "return typeof leak"),
        ("Object.setPrototypeOf(globalThis, {leak: 1})", "return typeof leak"),
        ("Object.preventExtensions(globalThis)", "globalThis.fresh = 1; return typeof leak"),
        ("__TimerManager = {leak: 1}", "return typeof __TimerManager"),
        ("'secret-42'.match(/(secret-\\d+)/)", "return typeof RegExp.$1 === 'string' ? RegExp.$1 : 'undefined'"),
    ],
)
def test_nothing_a_run_leaves_behind_is_seen_by_the_next(first, second):
    mapping_run(script=f"{first};\nreturn 1;", event=EVENT)

    assert mapping_run(script=second, event=EVENT).output in ("undefined", "undefinedundefined")


def test_assigning_an_undeclared_variable_is_an_error():
    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script="total = 1;\nreturn total;", event=EVENT)

    assert "total is not defined" in caught.value.message


@pytest.mark.parametrize(
    "tampering",
    [
        "Array.prototype.map = () => 'tampered'",
        "Object.prototype.polluted = 'tampered'",
        "JSON.stringify = () => 'tampered'",
        "delete Array.prototype.map",
        "console.log = null",
        "Object.defineProperty(String.prototype, 'trim', {value: () => 'tampered'})",
    ],
)
def test_built_ins_cannot_be_changed_for_later_runs(tampering):
    with pytest.raises(MappingRuntimeError):
        mapping_run(script=tampering, event=EVENT)

    result = mapping_run(script="return [[1].map((n) => n * 2), ({}).polluted, ' a '.trim()]", event=EVENT)
    assert result.output == [[2], None, "a"]


def test_own_properties_shadowing_built_ins_can_still_be_assigned():
    script = (
        "class RatingError extends Error {\n"
        "  constructor(message) { super(message); this.name = 'RatingError'; }\n"
        "}\n"
        "const value = {};\n"
        "value.toString = () => 'custom';\n"
        "return [String(value), new RatingError('low').name, String(new RatingError('low'))];"
    )

    assert mapping_run(script=script, event=EVENT).output == ["custom", "RatingError", "RatingError: low"]


@pytest.mark.parametrize(
    "script",
    ["return require('fs')", "return fetch('https://example.com')", "return new XMLHttpRequest()"],
)
def test_module_loading_and_network_are_not_defined(script):
    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script=script, event=EVENT)

    assert "ReferenceError" in caught.value.message


def test_dynamic_import_is_refused():
    script = (
        "import('fs').then(() => console.log('loaded'), (error) => console.log('refused', String(error)));\nreturn 1;"
    )

    result = mapping_run(script=script, event=EVENT)

    assert len(result.logs) == 1
    assert result.logs[0].startswith("refused")


def test_timers_are_not_available():
    result = mapping_run(script="return [typeof setTimeout, typeof clearTimeout, typeof setInterval]", event=EVENT)

    assert result.output == ["undefined"] * 3


def test_console_log_is_captured_one_line_per_call():
    script = "console.log('rating', event.properties.values.rating, {ok: true}, [1, 2]);\nconsole.log();\nreturn 1;"

    result = mapping_run(script=script, event=EVENT)

    assert result.logs == ['rating 4 {"ok":true} [1,2]', ""]


def test_console_log_describes_values_json_cannot_hold():
    script = "const o = {};\no.self = o;\nconsole.log(undefined, 3n, o, new TypeError('bad'));\nreturn 1;"

    result = mapping_run(script=script, event=EVENT)

    assert result.logs == ["undefined 3n [object Object] TypeError: bad"]


def test_console_output_beyond_the_limit_is_dropped():
    script = "for (let i = 0; i < 1000; i++) console.log('line', i);\nreturn 1;"

    result = mapping_run(script=script, event=EVENT, log_chars=100)

    assert result.logs[0] == "line 0"
    assert result.logs[-1] == "[further console output dropped]"
    assert sum(len(line) + 1 for line in result.logs[:-1]) <= 100


def test_logs_are_kept_when_the_script_throws():
    with pytest.raises(MappingRuntimeError) as caught:
        mapping_run(script="console.log('before', event.id);\nthrow new Error('after');", event=EVENT)

    assert caught.value.logs == ["before evt_1"]


def test_logs_do_not_carry_over_to_the_next_run():
    mapping_run(script="console.log('first run');\nreturn 1;", event=EVENT)

    assert mapping_run(script="return 1", event=EVENT).logs == []


def test_mapping_errors_share_one_base_class_with_message_and_line():
    with pytest.raises(MappingError) as caught:
        mapping_run(script="\nthrow new RangeError('out of range')", event=EVENT)

    assert str(caught.value) == "line 2: RangeError: out of range"


def test_threads_map_at_once_and_see_nothing_of_each_other():
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    outputs: dict[int, list] = {}
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            runs = []
            for _ in range(30):
                script = "globalThis.count = (globalThis.count || 0) + 1;\nreturn [event.thread, globalThis.count];"
                runs.append(mapping_run(script=script, event={"thread": number}, timeout_ms=1000).output)
            outputs[number] = runs
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert outputs == {number: [[number, 1]] * 30 for number in range(threads_count)}


def test_a_batch_maps_each_event_apart_in_one_call():
    script = (
        "globalThis.seen = (globalThis.seen || 0) + 1;\nif (event.n === 2) throw new Error('two');\n"
        "return [event.n, seen];"
    )

    outcomes = sandbox.mapping_run_each(environment_id=ENVIRONMENT, script=script, events=[{"n": n} for n in range(5)])

    assert [outcome.output for outcome in outcomes if not isinstance(outcome, Exception)] == [
        [0, 1],
        [1, 1],
        [3, 1],
        [4, 1],
    ]
    assert isinstance(outcomes[2], MappingRuntimeError)
    assert outcomes[2].line == 2


def test_a_forked_process_maps_with_sandbox_processes_of_its_own():
    mapping_run(script="return 1", event={})

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if mapping_run(script="return event.n + 1", event={"n": 1}).output == 2 else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while (waited := os.waitpid(pid, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    if waited == (0, 0):
        os.kill(pid, 9)
        os.waitpid(pid, 0)

    assert waited != (0, 0), "the forked child hung"
    assert os.waitstatus_to_exitcode(waited[1]) == 0
    assert mapping_run(script="return 2", event={}).output == 2


def test_a_new_process_whose_threads_all_start_mapping_at_once_does_not_crash():
    program = """
import threading
import django
django.setup()
from mapping.sandbox import MappingError, MappingLimits, mapping_run

def work(number):
    for script in ("return event.n;", "throw new Error('no');", "while (true) {}"):
        try:
            mapping_run(script=script, event={"n": number}, limits=MappingLimits(timeout_ms=50))
        except MappingError:
            pass

threads = [threading.Thread(target=work, args=(number,)) for number in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("finished")
"""
    completed = subprocess.run(
        [sys.executable, "-c", program],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (completed.returncode, completed.stdout.strip()) == (0, "finished"), completed.stderr[-2000:]


@pytest.mark.parametrize(
    "script",
    [
        "return new Array(2**26).fill(1.5).length",
        "return new Array(2**27).fill(1).length",
        "return 'x'.repeat(2**28).indexOf('y')",
    ],
    ids=["fill 2^26 doubles", "fill 2^27", "repeat 2^28"],
)
def test_a_built_in_call_v8_cannot_stop_still_ends_within_the_limits(warm_context, script):
    limits = MappingLimits(timeout_ms=50, memory_bytes=32 * 1024 * 1024)
    with sandbox._pool.process(environment_id=ENVIRONMENT) as process:
        # The process's size before the run: other environments' isolates, kept from earlier tests, are part of it.
        before = max(process.baseline_rss, _rss(process.pid))
        watched = PeakMemory(lambda: [process.pid])
        started = time.monotonic()
        [outcome] = process.run(environment_id=ENVIRONMENT, script=script, events=[b"{}"], limits=limits)
        elapsed = time.monotonic() - started
        peak = watched.stop()
    print(f"{script}: {type(outcome).__name__} after {elapsed * 1000:.0f} ms, peak {peak / 2**20:.0f} MiB")

    assert isinstance(outcome, (MappingTimeout, MappingMemoryLimit))
    assert elapsed <= 2 * 0.050 + 0.100
    # The cap is checked every millisecond: what one millisecond of page faults can add past it is allowed for.
    assert peak <= before + 2 * limits.memory_bytes + sandbox_process.MEMORY_SLACK_BYTES + 16 * 2**20
    assert mapping_run(script="return event.id", event=EVENT).output == "evt_1"


def _rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_a_run_the_machine_kept_from_the_cpu_is_run_again_with_more_time(warm_context):
    # About 60 ms of CPU whatever the clock does; once it has begun, its process is stopped past its whole deadline.
    iterations = mapping_run(
        script="let n = 0;\nconst until = Date.now() + 60;\nwhile (Date.now() < until) n++;\nreturn n;", event={}
    ).output
    script = f"let n = 0;\nfor (let i = 0; i < {iterations}; i++) if (Date.now() < 0) n++;\nreturn 'done';"
    with sandbox._pool.process(environment_id=ENVIRONMENT) as process:
        before = _cpu_ticks(process.pid)

        def stall() -> None:
            deadline = time.monotonic() + 5
            while _cpu_ticks(process.pid) == before and time.monotonic() < deadline:
                time.sleep(0.001)
            os.kill(process.pid, signal.SIGSTOP)
            time.sleep(0.400)
            os.kill(process.pid, signal.SIGCONT)

        stopper = threading.Thread(target=stall)
        stopper.start()
        [outcome] = process.run(
            environment_id=ENVIRONMENT, script=script, events=[b"{}"], limits=MappingLimits(timeout_ms=200)
        )
        stopper.join()

    assert isinstance(outcome, sandbox.MappingResult), repr(outcome)
    assert outcome.output == "done"


@pytest.mark.parametrize(
    ("cpu_seconds", "wall_seconds", "starved"),
    [(0.050, 0.0625, False), (0.032, 0.0625, False), (0.030, 0.0625, True), (0.002, 0.400, True)],
)
def test_only_a_run_with_under_half_its_time_on_a_cpu_was_starved(cpu_seconds, wall_seconds, starved):
    assert sandbox_process.was_starved(cpu_seconds=cpu_seconds, wall_seconds=wall_seconds) is starved


def test_a_request_gets_one_second_run_at_most():
    request = sandbox_process.Request(MappingLimits(timeout_ms=50))

    assert [request.rerun_allowed() for _ in range(3)] == [True, False, False]


def test_a_script_over_the_size_limit_is_refused_unchecked():
    error = mapping_syntax_error(environment_id=ENVIRONMENT, script="return 1;\n" + "// padding\n" * 10_000)

    assert isinstance(error, MappingSyntaxError)
    assert "larger than the limit" in error.message


def test_a_batch_of_large_events_maps_every_one(warm_context):
    events = [{"n": n, "blob": "x" * 100_000} for n in range(100)]

    outcomes = sandbox.mapping_run_each(
        environment_id=ENVIRONMENT, script="return event", events=events, limits=MappingLimits(timeout_ms=50)
    )

    assert [outcome.output["n"] for outcome in outcomes] == list(range(100))


def test_a_run_that_returns_after_its_limit_fails(warm_context):
    # It ends (by the clock) before V8's deadline for its slice (a quarter more), but after its own limit.
    script = "const until = Date.now() + 560;\nwhile (Date.now() < until) {}\nreturn 1;"

    [outcome] = sandbox.mapping_run_each(
        environment_id=ENVIRONMENT, script=script, events=[{}], limits=MappingLimits(timeout_ms=500)
    )

    assert isinstance(outcome, MappingTimeout)


def test_a_script_that_keeps_timing_out_has_the_rest_of_its_batch_put_off(warm_context):
    started = time.monotonic()
    outcomes = sandbox.mapping_run_each(
        environment_id=ENVIRONMENT, script="while (true) {}", events=[{}] * 20, limits=MappingLimits(timeout_ms=50)
    )
    elapsed = time.monotonic() - started

    assert all(isinstance(outcome, MappingTimeout) for outcome in outcomes[: sandbox_process.REQUEST_TIMEOUTS])
    assert all(isinstance(outcome, sandbox.SandboxFailure) for outcome in outcomes[sandbox_process.REQUEST_TIMEOUTS :])
    assert elapsed < 1.5


def test_one_tenant_holds_all_but_one_sandbox_and_the_pool_never_grows_past_its_size():
    pool = sandbox.SandboxPool(2, isolates=4)
    held = threading.Event()
    release = threading.Event()
    waiting_done = threading.Event()

    def hold_one() -> None:
        with pool.process(environment_id="a"):
            held.set()
            release.wait(10)

    def second_for_a() -> None:
        with pool.process(environment_id="a"):
            waiting_done.set()

    holder = threading.Thread(target=hold_one)
    holder.start()
    held.wait(10)
    waiter = threading.Thread(target=second_for_a)
    waiter.start()
    try:
        with pool.process(environment_id="b") as process:
            assert (
                process.run(environment_id=ENVIRONMENT, script="return 1", events=[b"{}"], limits=MappingLimits())[
                    0
                ].output
                == 1
            )
        assert not waiting_done.wait(0.2)
    finally:
        release.set()
        holder.join(10)
        waiter.join(10)
    assert waiting_done.is_set()
    with pool.process(environment_id="b") as process:
        process.run(
            environment_id=ENVIRONMENT,
            script="return new Array(2**26).fill(1.5).length",
            events=[b"{}"],
            limits=MappingLimits(),
        )
    with pool.process(environment_id="b"), pool.process(environment_id="c"):
        assert pool._live <= 2
    pool_processes = [process for process in pool._idle if process.alive]
    assert len(pool_processes) <= 2
    for process in pool._idle:
        process.kill()


def test_garbage_a_request_leaves_is_collected_or_its_process_replaced_before_it_is_lent_again(warm_context):
    pool = sandbox.SandboxPool(1, isolates=4)
    with pool.process(environment_id=ENVIRONMENT) as process:
        baseline = process.baseline_rss
        process.run(
            environment_id=ENVIRONMENT,
            script="globalThis.keep = Array.from({length: 1500000}, (_, i) => ({i, s: 'x' + i}));\nreturn 1;",
            events=[b"{}"],
            limits=MappingLimits(timeout_ms=10_000, memory_bytes=256 * 2**20),
        )
    with pool.process(environment_id="another-environment") as process:
        held = rss_bytes(process.pid)
        assert (
            process.run(
                environment_id="another-environment", script="return 2", events=[b"{}"], limits=MappingLimits()
            )[0].output
            == 2
        )
    for process in pool._idle:
        process.kill()

    # Without the collection (or the replacement) the 1,500,000 objects' ~100 MiB stay resident.
    assert held <= baseline + sandbox_process.ISOLATE_ALLOWANCE_BYTES + sandbox_process.TRIM_ABOVE_BYTES

"""No state crosses mapping runs. Runs of different environments never share a V8 isolate (shown with freezing off);
within an environment every object a script can reach, including those made at run time, is frozen: each is
attacked, and the next run looks for the attack."""

import shutil
from pathlib import Path

import pytest

from mapping import sandbox
from mapping.sandbox import MappingLimits, mapping_run, mapping_run_each

LIMITS = MappingLimits(timeout_ms=5000)
# The walk calls every built-in function once or twice: seconds on a loaded machine.
WALK_LIMITS = MappingLimits(timeout_ms=30_000, memory_bytes=256 * 1024 * 1024)
# Runs of one environment share its isolate: within it, freezing and the sweep are what keep runs apart.
ENVIRONMENT = "environment-under-test"

# Defines `reachable` (every object a script can reach, with the ones made at run time that every run shares),
# `built` (those reachable from the global object), `madeShared` and `unfrozen`.
WALK = (Path(__file__).with_name("reachable.js")).read_text()

ATTACK = (
    WALK
    + """
const opened = [];
// An attack that throws was resisted as surely as one that returns false.
const tryTo = (attack) => { try { return attack(); } catch { return false; } };
for (const [object, path] of reachable) {
  if (object === globalThis) continue;
  if (tryTo(() => Reflect.defineProperty(object, '__stash', { value: event.secret, configurable: true }))) {
    opened.push(`plain property on ${path}`);
  }
  const trap = { set(value) { this.__stash = value; }, configurable: true };
  if (tryTo(() => Reflect.defineProperty(object, '__trap', trap))) {
    opened.push(`setter on ${path}`);
  }
  if (tryTo(() => Reflect.setPrototypeOf(object, { __stash: event.secret }))) opened.push(`prototype swap of ${path}`);
  for (const key of Reflect.ownKeys(object)) {
    const before = Reflect.getOwnPropertyDescriptor(object, key);
    const replaced = 'value' in before
      ? tryTo(() => Reflect.defineProperty(object, key, { value: event.secret }))
      : tryTo(() => Reflect.defineProperty(object, key, { get() { return event.secret; } }));
    const after = Reflect.getOwnPropertyDescriptor(object, key);
    if (replaced && (after.value !== before.value || after.get !== before.get)) opened.push(`${path}.${String(key)}`);
  }
}
const G = globalThis;
G.__stash = event.secret;
Object.defineProperty(G, '__trap', { set(value) { G.__caught = value; }, get() { return event.secret; } });
Object.defineProperty(G, '__fixed', { value: event.secret, configurable: false });
Object.setPrototypeOf(G, { __stash: event.secret, __fromPrototype: event.secret });
return { walked: reachable.size, madeShared, opened };
"""
)

LOOK = (
    WALK
    + """
const found = [];
const planted = new Set(['__stash', '__trap', '__fixed', '__caught', '__fromPrototype']);
for (const [object, path] of reachable) {
  for (const key of Reflect.ownKeys(object)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
    if (planted.has(key) || descriptor.value === 'the-secret') found.push(`${path}.${String(key)}`);
  }
}
globalThis.__trap = 'the next run';
return { walked: reachable.size, found, caught: typeof __caught, extensible: Object.isExtensible(globalThis) };
"""
)


def test_every_reachable_object_but_the_global_one_resists_each_attack():
    result = mapping_run(environment_id=ENVIRONMENT, script=ATTACK, event={"secret": "the-secret"}, limits=WALK_LIMITS)

    assert result.output["walked"] > 800
    assert result.output["madeShared"] >= 5
    assert result.output["opened"] == []


def test_no_object_a_script_can_reach_twice_is_left_unfrozen():
    # The walk reaches what only run time makes: the functions behind Object.prototype's getters, the errors' stack
    # accessor. Before they were frozen it listed exactly these five.
    script = (
        WALK
        + """
const stack = Object.getOwnPropertyDescriptor(new Error(), 'stack');
const { hasOwnProperty, toString, valueOf } = Object.prototype;
const made = [hasOwnProperty, toString, valueOf, stack.get, stack.set];
return { unfrozen, madeReached: made.filter((object) => reachable.has(object)).length };
"""
    )
    result = mapping_run(environment_id=ENVIRONMENT, script=script, event={}, limits=WALK_LIMITS)

    assert result.output == {"unfrozen": [], "madeReached": 5}


@pytest.mark.parametrize("batched", [False, True], ids=["separate requests", "one batch"])
def test_no_attack_of_one_run_is_seen_by_the_next(batched):
    if batched:
        attacked, looked = mapping_run_each(
            environment_id=ENVIRONMENT,
            script=f"if (event.attack) {{ {ATTACK} }}\n{LOOK}",
            events=[{"attack": True, "secret": "the-secret"}, {"attack": False}],
            limits=WALK_LIMITS,
        )
        assert attacked.output["opened"] == []
    else:
        mapping_run(environment_id=ENVIRONMENT, script=ATTACK, event={"secret": "the-secret"}, limits=WALK_LIMITS)
        looked = mapping_run(environment_id=ENVIRONMENT, script=LOOK, event={}, limits=WALK_LIMITS)

    assert looked.output["walked"] > 800
    assert looked.output["found"] == []
    assert looked.output["caught"] == "undefined"
    assert looked.output["extensible"] is True


def test_the_global_objects_prototype_keeps_nothing_for_a_later_run():
    # The attack of the issue: the one object the old prelude left unfrozen.
    script = (
        "const P = Object.getPrototypeOf(globalThis);\n"
        "const previous = P.lastSeen;\n"
        "Reflect.set(P, 'lastSeen', event.id);\n"
        "return {previous: previous ?? null};"
    )

    outcomes = mapping_run_each(
        environment_id=ENVIRONMENT, script=script, events=[{"id": f"evt_{n}"} for n in range(20)], limits=LIMITS
    )
    later = [
        mapping_run(environment_id=ENVIRONMENT, script=script, event={"id": "later"}, limits=LIMITS) for _ in range(3)
    ]

    assert [outcome.output for outcome in [*outcomes, *later]] == [{"previous": None}] * 23


def test_a_setter_left_for_another_tenants_scratch_name_catches_nothing():
    trap = (
        "const stash = [];\n"
        "for (const target of [Object.getPrototypeOf(globalThis), Object.prototype]) {\n"
        "  Reflect.defineProperty(target, 'user', {set(value) { stash.push(value); }, configurable: true});\n"
        "}\n"
        "Object.defineProperty(globalThis, 'user', {set(value) { stash.push(value); }, configurable: false});\n"
        "globalThis.collected = stash;\n"
        "return {collected: stash};"
    )
    victim = "globalThis.user = event.endUserId;\nreturn {user: globalThis.user, stolen: typeof collected};"

    mapping_run(environment_id=ENVIRONMENT, script=trap, event={}, limits=LIMITS)
    victims = mapping_run_each(
        environment_id=ENVIRONMENT, script=victim, events=[{"endUserId": f"user-{n}"} for n in range(5)], limits=LIMITS
    )
    after = mapping_run(
        environment_id=ENVIRONMENT, script="return {collected: globalThis.collected ?? null}", event={}, limits=LIMITS
    )

    assert [outcome.output for outcome in victims] == [{"user": f"user-{n}", "stolen": "undefined"} for n in range(5)]
    assert after.output == {"collected": None}


def test_a_script_cannot_call_the_runner_to_forge_or_read_other_runs():
    forge = (
        "const runner = globalThis.__outflowMapping;\n"
        "const attempts = [];\n"
        "const forge = () => {\n"
        "  for (const call of [\n"
        "    () => runner.runMany('guess', 0, 'return {forged: true}', ['{}'], 1e6, 1e6, 50, 50, 1),\n"
        "    () => runner.takeFailed('guess'), () => runner.settle('guess'), () => runner.seal('mine'),\n"
        "    () => runner.check('guess', 'return 1'),\n"
        "  ]) {\n"
        "    try { call(); attempts.push('called'); } catch (error) { attempts.push(String(error.message)); }\n"
        "  }\n"
        "};\n"
        "forge();\n"
        "Promise.resolve().then(forge);\n"
        "return attempts;"
    )
    [forged] = mapping_run_each(environment_id=ENVIRONMENT, script=forge, events=[{}], limits=LIMITS)
    victims = mapping_run_each(
        environment_id=ENVIRONMENT, script="return {mine: event.n}", events=[{"n": n} for n in range(4)], limits=LIMITS
    )

    assert "called" not in forged.output
    assert forged.output[3] == "the mapping runner is sealed"
    assert [victim.output for victim in victims] == [{"mine": n} for n in range(4)]


def test_math_random_is_drawn_afresh_for_every_run():
    draws = mapping_run_each(
        environment_id=ENVIRONMENT, script="return [Math.random(), Math.random()]", events=[{}] * 3, limits=LIMITS
    )
    later = mapping_run(
        environment_id=ENVIRONMENT, script="return [Math.random(), Math.random()]", event={}, limits=LIMITS
    )

    values = [value for outcome in [*draws, later] for value in outcome.output]
    assert len(set(values)) == len(values)
    assert all(0 <= value < 1 for value in values)


# One process, so that two environments' runs meet in it: the pool's affinity would otherwise keep them apart.
@pytest.fixture
def one_process():
    pool = sandbox.SandboxPool(1, isolates=4)
    yield pool
    for process in pool._idle:
        process.kill()


def run_in(pool, environment_id: str, script: str, event: dict):
    """One run of the environment's script in the pool's one process: (its output, the process's pid)."""
    with pool.process(environment_id=environment_id) as process:
        [outcome] = process.run(
            environment_id=environment_id,
            script=script,
            events=[sandbox.json.dumps(event).encode()],
            limits=LIMITS,
        )
        assert isinstance(outcome, sandbox.MappingResult), outcome
        return outcome.output, process.pid


# Each object the walk found shared and unfrozen before (the attack): the attacker gives the function a
# prototype whose `call` records what it is called on, the victim calls it the common way, the attacker looks later.
SHARED_FUNCTIONS = {
    "Object.prototype.hasOwnProperty": (
        "Object.prototype.hasOwnProperty",
        "Object.prototype.hasOwnProperty.call(event, 'endUserId')",
    ),
    "Object.prototype.toString": (
        "Object.prototype.toString",
        "Object.prototype.toString.call(event) === '[object Object]'",
    ),
    "Object.prototype.valueOf": ("Object.prototype.valueOf", "Object.prototype.valueOf.call(event) === event"),
    "the errors' stack getter": (
        "Object.getOwnPropertyDescriptor(new Error(), 'stack').get",
        "(() => { const error = new Error(JSON.stringify(event));"
        " return Object.getOwnPropertyDescriptor(error, 'stack').get.call(error).length > 0; })()",
    ),
    "the errors' stack setter": (
        "Object.getOwnPropertyDescriptor(new Error(), 'stack').set",
        "(() => { const error = new Error('x');"
        " Object.getOwnPropertyDescriptor(error, 'stack').set.call(error, JSON.stringify(event)); return true; })()",
    ),
}


def _attacker(target: str) -> str:
    return (
        f"const f = {target};\n"
        "const caught = Array.isArray(f.caught) ? [...f.caught] : [];\n"
        "try {\n"
        "  const stash = [];\n"
        "  Object.defineProperty(f, 'caught', {value: stash});\n"
        "  const call = function (self, ...args) {\n"
        "    stash.push(JSON.stringify([self instanceof Error ? self.message : self, ...args]));\n"
        "    return Reflect.apply(f, self, args);\n"
        "  };\n"
        "  const recorder = Object.create(Function.prototype, {call: {value: call}});\n"
        "  Object.setPrototypeOf(f, recorder);\n"
        "} catch {}\n"
        "return {caught};"
    )


@pytest.mark.parametrize("shared", SHARED_FUNCTIONS)
@pytest.mark.parametrize("victim_environment", ["attacker", "victim"], ids=["same environment", "another environment"])
def test_a_trap_on_a_function_runs_share_catches_nothing_of_a_later_run(one_process, shared, victim_environment):
    target, victims_call = SHARED_FUNCTIONS[shared]
    attacker = _attacker(target)
    victim = f"return {{done: {victims_call}}};"

    _, first_pid = run_in(one_process, "attacker", attacker, {})
    victims_outputs = [
        run_in(one_process, victim_environment, victim, {"endUserId": f"user-secret-{n}"}) for n in range(3)
    ]
    looked, last_pid = run_in(one_process, "attacker", attacker, {})

    assert {pid for _, pid in victims_outputs} == {first_pid} == {last_pid}
    assert [output for output, _ in victims_outputs] == [{"done": True}] * 3
    assert looked == {"caught": []}


def _prelude_without_freezing(root: Path) -> Path:
    """A copy of the sandbox process's code whose prelude freezes nothing."""
    source = Path(sandbox.__file__).parent
    copy = root / "mapping"
    copy.mkdir()
    for name in ("__init__.py", "protocol.py", "sandbox_process.py"):
        shutil.copy(source / name, copy / name)
    prelude = (source / "prelude.js").read_text()
    assert prelude.count("    freeze(object);\n") == 1
    (copy / "prelude.js").write_text(prelude.replace("    freeze(object);\n", ""))
    return root


PLANT = (
    "const before = {object: Object.prototype.planted ?? null, json: JSON.planted ?? null,"
    " max: Math.max.planted ?? null};\n"
    "if (event.secret) {\n"
    "  Object.prototype.planted = event.secret;\n"
    "  JSON.planted = event.secret;\n"
    "  Math.max.planted = event.secret;\n"
    "}\n"
    "return {before, frozen: Object.isFrozen(Object.prototype)};"
)


def test_two_environments_never_share_an_isolate_even_with_freezing_off(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_ROOT", _prelude_without_freezing(tmp_path))
    pool = sandbox.SandboxPool(1, isolates=2)
    nothing = {"object": None, "json": None, "max": None}
    planted = {"object": "a-secret", "json": "a-secret", "max": "a-secret"}
    try:
        a_plants, pid = run_in(pool, "a", PLANT, {"secret": "a-secret"})
        a_again, _ = run_in(pool, "a", PLANT, {})
        b_looks, b_pid = run_in(pool, "b", PLANT, {})
        a_still, _ = run_in(pool, "a", PLANT, {})
        # Past the cap of two, the least recently used isolate (b's, then a's) goes, and with it what was planted.
        run_in(pool, "c", PLANT, {})
        run_in(pool, "d", PLANT, {})
        a_afresh, last_pid = run_in(pool, "a", PLANT, {})
    finally:
        for process in pool._idle:
            process.kill()

    assert a_plants == {"before": nothing, "frozen": False}
    # With freezing off, what a run plants stays in its environment's isolate ...
    assert a_again["before"] == planted
    assert a_still["before"] == planted
    # ... and never reaches another environment's, in the very same process.
    assert b_pid == pid == last_pid
    assert b_looks["before"] == nothing
    assert a_afresh["before"] == nothing

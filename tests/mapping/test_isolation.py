"""No state crosses mapping runs: every object a script can reach is attacked, and the next run looks for the attack."""

import pytest

from mapping.sandbox import MappingLimits, mapping_run, mapping_run_each

LIMITS = MappingLimits(timeout_ms=5000)

# Collects every object reachable from the global object (values, getters, setters, prototypes), with the
# intrinsics only syntax or built-in calls reach; `kind` is what each one is, for the failure message.
WALK = """
const seen = new Map();
const stack = [];
const visit = (value, path) => {
  if (((typeof value === 'object' && value !== null) || typeof value === 'function') && !seen.has(value)) {
    seen.set(value, path);
    stack.push(value);
  }
};
visit(globalThis, 'globalThis');
const reachedBySyntax = {
  generator: function* () {}, asyncFunction: async function () {}, asyncGenerator: async function* () {},
  arrow: async () => {}, arrayIterator: [][Symbol.iterator](), mapIterator: new Map()[Symbol.iterator](),
  setIterator: new Set()[Symbol.iterator](), stringIterator: ''[Symbol.iterator](),
  regExpStringIterator: /./[Symbol.matchAll](''), iteratorHelper: [].values().map((x) => x),
  wrapForValidIterator: Iterator.from({ next() {} }), segments: new Intl.Segmenter().segment(''),
  segmentIterator: new Intl.Segmenter().segment('')[Symbol.iterator](),
  arguments: (function () { return arguments; })(),
  promise: Promise.resolve(), error: new Error('x'), regExp: /x/, date: new Date(0), weakRef: new WeakRef({}),
  proxyTarget: new Proxy({}, {}), boundFunction: (function () {}).bind(null),
  throwTypeError: Object.getOwnPropertyDescriptor(Function.prototype, 'caller')?.get,
};
for (const [name, value] of Object.entries(reachedBySyntax)) {
  if (value !== undefined) visit(Object.getPrototypeOf(value), `prototype of ${name}`);
}
while (stack.length) {
  const object = stack.pop();
  const path = seen.get(object);
  for (const key of Reflect.ownKeys(object)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
    const name = `${path}.${String(key)}`;
    visit(descriptor.value, name);
    visit(descriptor.get, `${name} (getter)`);
    visit(descriptor.set, `${name} (setter)`);
  }
  visit(Reflect.getPrototypeOf(object), `${path} (prototype)`);
}
"""

ATTACK = (
    WALK
    + """
const opened = [];
// An attack that throws was resisted as surely as one that returns false.
const tryTo = (attack) => { try { return attack(); } catch { return false; } };
for (const [object, path] of seen) {
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
return { walked: seen.size, opened };
"""
)

LOOK = (
    WALK
    + """
const found = [];
const planted = new Set(['__stash', '__trap', '__fixed', '__caught', '__fromPrototype']);
for (const [object, path] of seen) {
  for (const key of Reflect.ownKeys(object)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
    if (planted.has(key) || descriptor.value === 'the-secret') found.push(`${path}.${String(key)}`);
  }
}
globalThis.__trap = 'the next run';
return { walked: seen.size, found, caught: typeof __caught, extensible: Object.isExtensible(globalThis) };
"""
)


def test_every_reachable_object_but_the_global_one_resists_each_attack():
    result = mapping_run(script=ATTACK, event={"secret": "the-secret"}, limits=LIMITS)

    assert result.output["walked"] > 800
    assert result.output["opened"] == []


@pytest.mark.parametrize("batched", [False, True], ids=["separate requests", "one batch"])
def test_no_attack_of_one_run_is_seen_by_the_next(batched):
    if batched:
        attacked, looked = mapping_run_each(
            script=f"if (event.attack) {{ {ATTACK} }}\n{LOOK}",
            events=[{"attack": True, "secret": "the-secret"}, {"attack": False}],
            limits=LIMITS,
        )
        assert attacked.output["opened"] == []
    else:
        mapping_run(script=ATTACK, event={"secret": "the-secret"}, limits=LIMITS)
        looked = mapping_run(script=LOOK, event={}, limits=LIMITS)

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

    outcomes = mapping_run_each(script=script, events=[{"id": f"evt_{n}"} for n in range(20)], limits=LIMITS)
    later = [mapping_run(script=script, event={"id": "later"}, limits=LIMITS) for _ in range(3)]

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

    mapping_run(script=trap, event={}, limits=LIMITS)
    victims = mapping_run_each(script=victim, events=[{"endUserId": f"user-{n}"} for n in range(5)], limits=LIMITS)
    after = mapping_run(script="return {collected: globalThis.collected ?? null}", event={}, limits=LIMITS)

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
    [forged] = mapping_run_each(script=forge, events=[{}], limits=LIMITS)
    victims = mapping_run_each(script="return {mine: event.n}", events=[{"n": n} for n in range(4)], limits=LIMITS)

    assert "called" not in forged.output
    assert forged.output[3] == "the mapping runner is sealed"
    assert [victim.output for victim in victims] == [{"mine": n} for n in range(4)]


def test_math_random_is_drawn_afresh_for_every_run():
    draws = mapping_run_each(script="return [Math.random(), Math.random()]", events=[{}] * 3, limits=LIMITS)
    later = mapping_run(script="return [Math.random(), Math.random()]", event={}, limits=LIMITS)

    values = [value for outcome in [*draws, later] for value in outcome.output]
    assert len(set(values)) == len(values)
    assert all(0 <= value < 1 for value in values)

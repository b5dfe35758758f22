"""End to end on the real worker: hostile mappings of one tenant reach nothing of another and cannot grow the worker."""

import json
import time

import pytest

from delivery.models import Delivery
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event
from tests.memory_peak import PeakMemory, children_of, rss_bytes

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


def test_the_global_objects_prototype_carries_nothing_between_deliveries(worker, api, receiver):
    # The stash, with the assignment's TypeError (a frozen object) caught so every delivery arrives.
    stash = (
        "const P = Object.getPrototypeOf(globalThis);\n"
        "const prev = P.lastSeen;\n"
        "try { P.lastSeen = event.id; } catch {}\n"
        "return {prev: prev ?? null, id: event.id};"
    )
    subscribe(api, receiver, "/stash", mapping=stash)
    sent = [event() for _ in range(20)]
    for one in sent:
        ingest(api, one)

    received = receiver.wait_for(20, "/stash")

    assert sorted(json.loads(request.body)["id"] for request in received) == sorted(one["id"] for one in sent)
    assert {json.loads(request.body)["prev"] for request in received} == {None}


def test_a_setter_one_environment_leaves_collects_nothing_of_another(worker, api, other_api, receiver):
    trap = (
        "const P = Object.getPrototypeOf(globalThis);\n"
        "const collected = [];\n"
        "for (const target of [P, Object.prototype]) {\n"
        "  try { collected.push(...(target.collected || [])); } catch {}\n"
        "  try {\n"
        "    const stash = [];\n"
        "    Object.defineProperty(target, 'collected', {value: stash});\n"
        "    Object.defineProperty(target, 'user', {set(value) { stash.push(value); }});\n"
        "  } catch {}\n"
        "}\n"
        "try { collected.push(...(globalThis.stolen || [])); } catch {}\n"
        "try {\n"
        "  const stash = [];\n"
        "  Object.defineProperty(globalThis, 'stolen', {value: stash, configurable: false});\n"
        "  Object.defineProperty(globalThis, 'user', {set(value) { stash.push(value); }, configurable: false});\n"
        "} catch {}\n"
        "return {collected};"
    )
    scratch = "globalThis.user = event.endUserId;\nreturn {user: globalThis.user};"
    subscribe(api, receiver, "/attacker", mapping=trap)
    subscribe(other_api, receiver, "/victim", mapping=scratch)

    ingest(api, *[event() for _ in range(3)])
    receiver.wait_for(3, "/attacker")
    victims = [event(endUserId=f"victim-user-{n}") for n in range(10)]
    for victim in victims:
        ingest(other_api, victim)
    victim_bodies = [json.loads(request.body) for request in receiver.wait_for(10, "/victim")]
    ingest(api, *[event() for _ in range(3)])
    attacker_bodies = [json.loads(request.body) for request in receiver.wait_for(6, "/attacker")]

    assert sorted(body["user"] for body in victim_bodies) == sorted(victim["endUserId"] for victim in victims)
    assert attacker_bodies == [{"collected": []}] * 6


def test_a_trap_on_has_own_property_catches_no_event_of_another_environment(worker, api, other_api, receiver):
    # The attack: the function behind Object.prototype's hasOwnProperty getter was shared, unfrozen, by every
    # run in the one sandbox process of the e2e worker. Now it is frozen, and each environment has its own isolate.
    trap = (
        "const f = Object.prototype.hasOwnProperty;\n"
        "const caught = Array.isArray(f.caught) ? [...f.caught] : [];\n"
        "try {\n"
        "  const stash = [];\n"
        "  Object.defineProperty(f, 'caught', {value: stash});\n"
        "  const call = function (self, ...args) {\n"
        "    stash.push(JSON.stringify(self));\n"
        "    return Reflect.apply(f, self, args);\n"
        "  };\n"
        "  Object.setPrototypeOf(f, Object.create(Function.prototype, {call: {value: call}}));\n"
        "} catch {}\n"
        "return {caught};"
    )
    idiom = "return {user: event.endUserId, known: Object.prototype.hasOwnProperty.call(event, 'endUserId')};"
    subscribe(api, receiver, "/attacker", mapping=trap)
    subscribe(other_api, receiver, "/victim", mapping=idiom)

    ingest(api, *[event() for _ in range(3)])
    receiver.wait_for(3, "/attacker")
    victims = [event(endUserId=f"victim-user-{n}") for n in range(3)]
    for victim in victims:
        ingest(other_api, victim)
    victim_bodies = [json.loads(request.body) for request in receiver.wait_for(3, "/victim")]
    ingest(api, *[event() for _ in range(3)])
    attacker_bodies = [json.loads(request.body) for request in receiver.wait_for(6, "/attacker")]

    assert sorted(body["user"] for body in victim_bodies) == sorted(victim["endUserId"] for victim in victims)
    assert {body["known"] for body in victim_bodies} == {True}
    assert attacker_bodies == [{"caught": []}] * 6


@pytest.mark.parametrize(
    ("bomb", "error"),
    [
        ("return new Array(2**26).fill(1.5).length", ("ran longer than the limit of 50 ms",)),
        ("return new Array(2**27).fill(1).length", ("ran longer than the limit of 50 ms",)),
        # The memory cap ends it (tests/mapping/test_sandbox.py shows which limit, alone); on a loaded machine the
        # allocation can be slow enough that the time limit comes first, and either stops it.
        ("return 'x'.repeat(2**28).indexOf('y')", ("memory limit of 32 MiB", "ran longer than the limit of 50 ms")),
    ],
    ids=["fill 2^26 doubles", "fill 2^27", "repeat 2^28"],
)
def test_a_built_in_bomb_fails_its_delivery_and_leaves_the_worker_as_it_was(worker, api, receiver, bomb, error):
    subscribe(api, receiver, "/neighbour", mapping="return {id: event.id};")
    pid = worker.worker.pid
    ingest(api, event())
    receiver.wait_for(1, "/neighbour")
    # Two runs stopped put the rest of their batch off to a retry, which the retry's batch then maps.
    bombing = subscribe(api, receiver, "/bomb", mapping=bomb, auto_disable=False, max_retries=1)
    before = rss_bytes(pid)
    children = PeakMemory(lambda: children_of(pid))

    started = time.monotonic()
    ingest(api, *[event() for _ in range(3)])
    bombed = Delivery.objects.filter(subscription_id=bombing["id"])
    wait_until(lambda: bombed.filter(status=Delivery.Status.FAILED).count() == 3)
    elapsed = time.monotonic() - started
    receiver.wait_for(4, "/neighbour")
    peak = children.stop()
    after = rss_bytes(pid)
    print(
        f"{bomb}: 3 failed in {elapsed:.2f} s; worker RSS {before / MIB:.0f} -> {after / MIB:.0f} MiB;"
        f" sandbox peak {peak / MIB:.0f} MiB"
    )

    errors = [delivery.last_error for delivery in bombed]
    assert all(any(one in found for one in error) for found in errors), errors
    assert after - before < 20 * MIB
    # A sandbox process: its baseline (~75 MiB) + twice the 32 MiB limit + 64 MiB slack, checked every millisecond.
    assert peak < 240 * MIB
    assert receiver.received("/bomb") == []

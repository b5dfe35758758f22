"""The coordination keys, on both backends: Redis (atomic scripts) and `make run`'s file cache."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.coordination import keys
from delivery.coordination.local import LocalCoordination
from delivery.coordination.redis import RedisCoordination


@pytest.fixture(params=["redis", "file"])
def backend(request, settings, tmp_path):
    settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION = 2
    if request.param == "file":
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
        }
        settings.OUTFLOW_COORDINATION_BACKEND = "delivery.coordination.local.LocalCoordination"
        return LocalCoordination()
    return RedisCoordination()


def test_slots_are_taken_up_to_the_limit_and_freed_only_by_their_holder(backend):
    subscription = uuid.uuid4()
    first = backend.slot_take(subscription_id=subscription, slots=2, seconds=30)
    second = backend.slot_take(subscription_id=subscription, slots=2, seconds=30)
    assert {first.index, second.index} == {0, 1}
    assert backend.slot_take(subscription_id=subscription, slots=2, seconds=30) is None
    assert backend.keys_of(subscription_ids=[subscription])[subscription].slots_held == 2

    backend.slot_free(slot=first)
    assert backend.slot_take(subscription_id=subscription, slots=2, seconds=30).index == first.index


def test_an_ordered_subscription_has_one_slot(backend):
    subscription = uuid.uuid4()
    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is not None
    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is None


def test_a_drain_whose_slot_expired_and_was_taken_again_leaves_the_new_holders_slot(backend):
    subscription = uuid.uuid4()
    slow = backend.slot_take(subscription_id=subscription, slots=1, seconds=0)
    time.sleep(1.1)
    other = backend.slot_take(subscription_id=subscription, slots=1, seconds=30)
    assert other is not None and other.index == slow.index

    assert backend.slot_extend(slot=slow, seconds=30) is None
    backend.slot_free(slot=slow)

    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is None
    backend.slot_free(slot=other)
    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is not None


def test_a_held_slot_is_extended_by_its_holder(backend):
    subscription = uuid.uuid4()
    slot = backend.slot_take(subscription_id=subscription, slots=1, seconds=0)
    assert backend.slot_extend(slot=slot, seconds=30) == slot
    time.sleep(1.1)
    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is None


def test_wakes_are_debounced_until_a_drain_takes_a_slot(backend):
    subscription = uuid.uuid4()
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is True
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is False
    slot = backend.slot_take(subscription_id=subscription, slots=1, seconds=30)
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is True
    backend.wake_clear(subscription_id=subscription)
    assert backend.slot_free(slot=slot) is False


def test_freeing_a_slot_tells_of_a_wake_that_came_in_while_it_was_held(backend):
    subscription = uuid.uuid4()
    slot = backend.slot_take(subscription_id=subscription, slots=1, seconds=30)
    # A wake whose task ran meanwhile found no free slot: the drain that frees it must publish again.
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is True
    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is None
    assert backend.slot_free(slot=slot) is True


def test_one_drain_that_found_no_slot_is_passed_on_once_however_many_holders_free_theirs(backend):
    subscription = uuid.uuid4()
    first = backend.slot_take(subscription_id=subscription, slots=2, seconds=30)
    second = backend.slot_take(subscription_id=subscription, slots=2, seconds=30)
    assert backend.slot_take(subscription_id=subscription, slots=2, seconds=30) is None

    assert backend.slot_free(slot=first) is True
    assert backend.slot_free(slot=second) is False
    # The successor the first published is the queued wake: ingest's wakes wait for it.
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is False


def test_freeing_a_slot_leaves_a_wake_whose_drain_has_not_run_to_that_drain(backend):
    subscription = uuid.uuid4()
    slot = backend.slot_take(subscription_id=subscription, slots=1, seconds=30)
    # Asked for meanwhile, its task still queued: it takes the slot once freed; another would find nothing.
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is True
    assert backend.slot_free(slot=slot) is False
    assert backend.slot_take(subscription_id=subscription, slots=1, seconds=30) is not None


def test_a_wake_that_finds_every_slot_held_as_the_holder_frees_it_is_not_lost_in_the_file_cache(
    settings, tmp_path, monkeypatch
):
    """`make run`'s file cache has no scripts: a drain looks at the slots, then marks the wake. A holder that frees
    its slot between the two must still pass the wake on, or the wake's drain take the slot; else nothing drains and
    the mark holds back every later wake (ingest's, the sweeper's) for OUTFLOW_REQUEUE_GRACE_SECONDS."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }
    backend = LocalCoordination()
    subscription = uuid.uuid4()
    holder = backend.slot_take(subscription_id=subscription, slots=1, seconds=30)
    # Rows come in; their wake's task starts while the holder still sends.
    assert backend.wake_claim(subscription_id=subscription, seconds=30) is True
    cache = backend.cache
    mark = cache.set
    passed_on = []

    def holder_frees_then_mark(key, value, *args, **kwargs):
        if value == keys.WAKE_FOUND_NO_SLOT and not passed_on:
            passed_on.append(backend.slot_free(slot=holder))
        return mark(key, value, *args, **kwargs)

    monkeypatch.setattr(cache, "set", holder_frees_then_mark)
    taken = backend.slot_take(subscription_id=subscription, slots=1, seconds=30)

    assert passed_on, "the interleaving did not happen"
    assert taken is not None or passed_on == [True]


def test_a_circuit_and_a_slow_down_say_until_when_the_endpoint_rests(backend):
    subscription = uuid.uuid4()
    assert backend.rest(subscription_id=subscription) is None
    soon, later = timezone.now() + timedelta(seconds=5), timezone.now() + timedelta(seconds=20)
    backend.circuit_trip(subscription_id=subscription, until=soon)
    assert backend.rest(subscription_id=subscription).reason == "endpoint_unreachable"
    backend.slow_down(subscription_id=subscription, until=later)
    rest = backend.rest(subscription_id=subscription)
    assert rest.reason == "endpoint_slow_down" and abs((rest.until - later).total_seconds()) < 0.01
    # A shorter Retry-After answered meanwhile does not cut the longer one short.
    backend.slow_down(subscription_id=subscription, until=soon)
    assert abs((backend.rest(subscription_id=subscription).until - later).total_seconds()) < 0.01


def test_a_slot_taken_or_extended_says_what_holds_the_endpoint(backend):
    """Read in the same round trip as the slot: a drain checks it before each claim."""
    subscription = uuid.uuid4()
    slot = backend.slot_take(subscription_id=subscription, slots=2, seconds=30)
    assert slot.rest is None
    until = timezone.now() + timedelta(seconds=20)
    backend.circuit_trip(subscription_id=subscription, until=until)

    extended = backend.slot_extend(slot=slot, seconds=30)
    other = backend.slot_take(subscription_id=subscription, slots=2, seconds=30)

    for held in (extended, other):
        assert held.rest.reason == "endpoint_unreachable" and abs((held.rest.until - until).total_seconds()) < 0.01
    assert (extended.index, extended.owner) == (slot.index, slot.owner)


def test_a_circuit_that_ended_no_longer_holds(backend):
    subscription = uuid.uuid4()
    backend.circuit_trip(subscription_id=subscription, until=timezone.now() + timedelta(seconds=0.3))
    time.sleep(0.4)
    assert backend.rest(subscription_id=subscription) is None

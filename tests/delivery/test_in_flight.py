"""In-flight slots: a batch frees or extends only the slot it holds, on Redis and on `make run`'s file cache."""

import time

import pytest
from django.core.cache import cache

from delivery.in_flight import in_flight_slot_extend, in_flight_slot_free, in_flight_slot_take


@pytest.fixture(params=["redis", "file"])
def shared_cache(request, settings, tmp_path):
    if request.param == "file":
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
        }
    settings.OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION = 1
    cache.delete("outflow:in-flight:sub-1:0")
    return request.param


def test_a_batch_whose_slot_expired_and_was_taken_again_leaves_the_new_holders_slot(shared_cache):
    slow = in_flight_slot_take(subscription_id="sub-1", seconds=0)
    time.sleep(1.1)
    other = in_flight_slot_take(subscription_id="sub-1", seconds=30)
    assert other is not None and other.key == slow.key

    assert in_flight_slot_extend(slot=slow, seconds=30) is False
    in_flight_slot_free(slot=slow)

    assert cache.get(other.key) == other.owner
    assert in_flight_slot_take(subscription_id="sub-1", seconds=30) is None
    in_flight_slot_free(slot=other)
    assert in_flight_slot_take(subscription_id="sub-1", seconds=30) is not None


def test_a_held_slot_is_extended_by_its_holder(shared_cache):
    slot = in_flight_slot_take(subscription_id="sub-1", seconds=0)
    assert in_flight_slot_extend(slot=slot, seconds=30) is True
    time.sleep(1.1)
    assert cache.get(slot.key) == slot.owner
    in_flight_slot_free(slot=slot)

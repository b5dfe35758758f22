"""The batches waiting in Redis for a slot: oldest first, capped, and dropped once the sweeper owns their rows."""

import time

from django.core.cache import cache

from delivery import waiting_batches
from delivery.waiting_batches import waiting_batch_pop, waiting_batch_push


def test_waiting_batches_come_back_oldest_first_and_the_list_expires_with_the_grace(settings):
    assert waiting_batch_push(subscription_id="sub-w", delivery_ids=["a", "b"])
    assert waiting_batch_push(subscription_id="sub-w", delivery_ids=["c"])
    ttl = cache._cache.get_client().ttl(cache.make_key("outflow:waiting-batches:{sub-w}"))
    assert 0 < ttl <= settings.OUTFLOW_REQUEUE_GRACE_SECONDS + 1
    assert waiting_batch_pop(subscription_id="sub-w") == ["a", "b"]
    assert waiting_batch_pop(subscription_id="sub-w") == ["c"]
    assert waiting_batch_pop(subscription_id="sub-w") == []


def test_a_full_list_takes_no_more_batches(monkeypatch):
    monkeypatch.setattr(waiting_batches, "MAX_WAITING_BATCHES", 2)
    assert waiting_batch_push(subscription_id="sub-full", delivery_ids=["a"])
    assert waiting_batch_push(subscription_id="sub-full", delivery_ids=["b"])
    assert not waiting_batch_push(subscription_id="sub-full", delivery_ids=["c"])
    assert [waiting_batch_pop(subscription_id="sub-full") for _ in range(3)] == [["a"], ["b"], []]


def test_a_batch_that_waited_past_the_requeue_grace_is_dropped_for_the_sweeper(settings):
    settings.OUTFLOW_REQUEUE_GRACE_SECONDS = 0.2
    assert waiting_batch_push(subscription_id="sub-old", delivery_ids=["old"])
    time.sleep(0.3)
    assert waiting_batch_push(subscription_id="sub-old", delivery_ids=["new"])
    assert waiting_batch_pop(subscription_id="sub-old") == ["new"]
    assert waiting_batch_pop(subscription_id="sub-old") == []

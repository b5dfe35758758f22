"""Time-ordered UUIDs: version 7, the time in their first 48 bits, so keys made later sort after."""

import time
import uuid

from config.time_ordered_ids import uuid7


def test_a_uuid7_is_a_version_7_rfc_uuid_that_starts_with_the_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    made = uuid7()
    after = time.time_ns() // 1_000_000
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert before <= made.int >> 80 <= after


def test_uuid7s_made_a_millisecond_apart_sort_in_that_order_and_never_repeat():
    earlier = [uuid7() for _ in range(1000)]
    time.sleep(0.002)
    later = [uuid7() for _ in range(1000)]
    assert max(earlier) < min(later)
    assert len(set(earlier + later)) == 2000

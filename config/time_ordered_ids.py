"""Time-ordered UUIDs (version 7, RFC 9562) for the primary keys of rows written at ingest's rate.

A random (version 4) key sends each insert to a random leaf page of its B-tree: with ten million rows those pages
are not in PostgreSQL's buffers, so every insert read about four of them from outside (event, delivery and the
delivery's event index). Keys that start with the time land on the few rightmost pages, which stay cached.
"""

import os
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


def uuid7() -> uuid.UUID:
    """48 bits of Unix milliseconds, then the version, 74 random bits and the variant."""
    milliseconds = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(
        int=(milliseconds & (1 << 48) - 1) << 80
        | _VERSION
        | (random_bits >> 62 & 0xFFF) << 64
        | _VARIANT
        | random_bits & (1 << 62) - 1
    )

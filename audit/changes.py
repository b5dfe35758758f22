"""What an audit entry shows of a change: the fields that differ, before and after, with secret values masked and
mapping sources reduced to their size and hash. Pure: callers pass the objects' values and say how each is shown."""

import hashlib
from collections.abc import Callable

MASK = "********"


def secret_shown(value):
    """Whether a secret is set, never what it is."""
    return MASK if value else None


def mapping_shown(source: str | None) -> dict | None:
    if not source:
        return None
    encoded = source.encode()
    return {"size": len(encoded), "sha256": hashlib.sha256(encoded).hexdigest()}


def changes_between(before: dict, after: dict, *, shown: dict[str, Callable] | None = None) -> dict[str, list]:
    """{field: [before, after]} for each field whose value differs (compared as stored, shown as `shown` says: a
    changed secret shows as a masked value on both sides). An object created has an empty `before`, one deleted an
    empty `after`."""
    shown = shown or {}
    changes = {}
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old != new:
            show = shown.get(name)
            changes[name] = [show(old), show(new)] if show else [old, new]
    return changes

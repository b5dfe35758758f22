"""Compiled payload filters, kept in each process per subscription version: compiled once, not once per event."""

import threading
from collections import OrderedDict

from subscriptions.models import Subscription
from subscriptions.payload_filters import Matcher, filter_compile

_CACHE_SIZE = 2048
_compiled: OrderedDict = OrderedDict()
_compiled_lock = threading.Lock()


def subscription_filter_matcher(subscription: Subscription) -> Matcher | None:
    """The matcher of the subscription's filter, None without one.

    Kept by the subscription's id until its `updated_at` moves, which every write of it does
    (config/versioned_rows.py): a changed filter is compiled again, an unchanged one never.
    """
    if subscription.filter is None:
        return None
    version = subscription.updated_at
    with _compiled_lock:
        cached = _compiled.get(subscription.pk)
        if cached is not None and cached[0] == version:
            _compiled.move_to_end(subscription.pk)
            return cached[1]
    # Checked against the limits when saved: limits lowered since must not stop its events.
    matcher = filter_compile(subscription.filter, limits=None)
    with _compiled_lock:
        _compiled[subscription.pk] = (version, matcher)
        _compiled.move_to_end(subscription.pk)
        if len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return matcher

"""The names of a subscription's coordination keys: each carries the subscription in braces, so that a Redis Cluster
keeps one subscription's keys in one slot, where a script may touch them together."""


def slot_key(subscription_id, index: int) -> str:
    return f"outflow:slot:{{{subscription_id}}}:{index}"


# The wake key's values: a drain is asked for and has not started; a drain found every slot held (the drain that frees
# one publishes its successor, and the key says queued again).
WAKE_QUEUED = "queued"
WAKE_FOUND_NO_SLOT = "no-slot"


def wake_key(subscription_id) -> str:
    return f"outflow:wake:{{{subscription_id}}}"


def circuit_key(subscription_id) -> str:
    return f"outflow:circuit:{{{subscription_id}}}"


def slow_down_key(subscription_id) -> str:
    return f"outflow:slow-down:{{{subscription_id}}}"


def rate_log_key(subscription_id) -> str:
    return f"outflow:rate-limit:{{{subscription_id}}}"

"""Draining a subscription in this process as its worker would, for the standalone profilers (attempt_profile,
limiter_cost, tracing_cost): they measure the send loop without a worker's task machinery."""


def subscription_drained(*, subscription_id) -> int:
    """Run the subscription's drain until nothing it may send is due; how many drains (time slices) that took.

    Each slice that ends with work left publishes its successor task, as in a worker (its cost is the drain's):
    nothing consumes those tasks here, and the caller purges its broker queue or drops its broker."""
    from delivery.drain import subscription_drain

    slices = 0
    while True:
        end = subscription_drain(subscription_id=subscription_id)
        if end is None:
            raise RuntimeError(f"subscription {subscription_id}: no in-flight slot was free (or it is gone)")
        slices += 1
        if end.deferral is not None:
            raise RuntimeError(f"subscription {subscription_id}: its drain was held ({end.deferral.reason})")
        if not end.more:
            return slices

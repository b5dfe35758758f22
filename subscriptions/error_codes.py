"""Stable machine codes of the subscriptions app's API errors."""

SUBSCRIPTION_LIMIT = "subscription_limit"
SUBSCRIPTION_PAUSED = "subscription_paused"

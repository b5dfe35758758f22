"""Stable machine codes of the tenancy app's API errors."""

RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
SCOPE = "scope"

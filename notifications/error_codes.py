"""Stable machine codes of the notifications app's API errors."""

NO_CHANNEL = "no_channel"

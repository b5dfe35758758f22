"""Signals of the subscriptions app: what it announces to apps above it that it may not import."""

from django.dispatch import Signal

# Sent with `subscription=` inside the transaction of a resume that found the subscription paused, so what a
# receiver writes commits with the resume (notifications/receivers.py records subscription.resumed).
subscription_resumed = Signal()

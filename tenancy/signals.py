"""Signals of the tenancy app: what it announces to the apps above it, which it may not import."""

from django.dispatch import Signal

# Sent with `environment=` inside the transaction that creates it, so what a receiver writes commits with it
# (subscriptions/receivers.py gives the environment its export settings).
environment_created = Signal()

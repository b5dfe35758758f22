"""Signals of the tenancy app: what it announces to the apps above it, which it may not import."""

from django.dispatch import Signal

# Sent with `environment=` inside the transaction that creates it, so what a receiver writes commits with it
# (subscriptions/receivers.py gives the environment its export settings).
environment_created = Signal()

# Sent inside the transaction of a change of tenancy's configuration (an API key made or removed, a member added,
# changed or removed), so the audit entry that audit/receivers.py writes commits with it. Arguments: `environment`,
# `action` ("api_key.created": the object's type, a dot, what happened), `object_id`, `object_name`, `changes`
# ({field: [before, after]}, nothing secret).
configuration_changed = Signal()

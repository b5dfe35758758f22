"""A batch's lease on its claimed deliveries and its in-flight slot: its budget, the check before each send, renewal.

A lease is stamped by the database's clock (the claim's SQL), the clock the sweeper expires it by. The batch
keeps a monotonic deadline taken before the claim's statement, so it can never think it has more time than the
row says, and checking it before a send costs no query.
"""

import contextlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from config.shared_cache import CACHE_ERRORS
from credentials.oauth import oauth_token_seconds
from credentials.request_auth import request_authenticate_seconds
from delivery.claimed import ClaimedDelivery
from delivery.coordination import coordination
from delivery.coordination.base import Slot
from delivery.db_clock import datetime_read, now_sql
from delivery.models import Delivery
from subscriptions.models import Subscription


def batch_seconds() -> float:
    """How long one batch may send: requests stop being started once one more might overrun it."""
    return 2 * settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS


def _record_seconds() -> float:
    """What a batch keeps of its lease after its last answer, to store the log rows and outcomes."""
    return settings.OUTFLOW_LEASE_MARGIN_SECONDS / 2


def send_seconds(*, subscription: Subscription) -> float:
    """The longest one send takes: applying the credential (an OAuth fetch may wait on another's), then the request."""
    return request_authenticate_seconds(credential=subscription.credential) + settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS


def lease_seconds(*, subscription: Subscription) -> float:
    """A claim's budget: the last send starts by the batch's deadline and takes at most a send; then a margin to
    store the log rows and outcomes."""
    return (
        batch_seconds()
        - settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS
        + send_seconds(subscription=subscription)
        + settings.OUTFLOW_LEASE_MARGIN_SECONDS
    )


def slot_seconds() -> float:
    """How long a slot is held at most: taken before the subscription is read, it outlasts the longest lease (with
    an OAuth credential), so a batch never loses its slot before its claim."""
    return batch_seconds() + oauth_token_seconds() + settings.OUTFLOW_LEASE_MARGIN_SECONDS


@dataclass(slots=True)
class BatchLease:
    """What a batch holds while it sends: its slot, and when its deliveries' lease runs out by `time.monotonic()`."""

    slot: Slot
    runs_out: float


def batch_lease_hold(*, lease: BatchLease, subscription: Subscription, deliveries: list[ClaimedDelivery]) -> bool:
    """Whether the batch may make one more send: its lease lasts through the send and half the margin (to record
    outcomes), or was renewed with its slot. False: part of the claim was already taken back; send no more."""
    if time.monotonic() + send_seconds(subscription=subscription) + _record_seconds() <= lease.runs_out:
        return True
    seconds = lease_seconds(subscription=subscription)
    renewing_at = time.monotonic()
    if not deliveries_lease_renew(deliveries=deliveries, seconds=seconds):
        return False
    lease.runs_out = renewing_at + seconds
    # The claim stands by the rows: a slot lost early only lets one more drain run.
    with contextlib.suppress(*CACHE_ERRORS):
        coordination().slot_extend(slot=lease.slot, seconds=slot_seconds())
    return True


def deliveries_lease_renew(*, deliveries: list[ClaimedDelivery], seconds: float) -> bool:
    """Extend the claim on these deliveries to `seconds` from now by the database's clock, only where it still
    stands (sending, the lease this batch holds, not yet run out); whether it still stood for all of them.

    All of the batch, sent or not: the outcomes of those sent are recorded after the last send. One statement.
    """
    leases = sorted({delivery.lease_expires_at for delivery in deliveries})
    lease_sql, lease_params = now_sql(plus_seconds=seconds)
    now, now_params = now_sql()
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET lease_expires_at = {lease_sql}, updated_at = {now}"
            f" WHERE id IN ({', '.join(['%s'] * len(deliveries))}) AND status = %s"
            f" AND lease_expires_at IN ({', '.join(['%s'] * len(leases))}) AND lease_expires_at > {now}"
            f" RETURNING id, lease_expires_at",
            [
                *lease_params,
                *now_params,
                *(Delivery._meta.pk.get_db_prep_value(delivery.pk, connection) for delivery in deliveries),
                Delivery.Status.SENDING,
                *(connection.ops.adapt_datetimefield_value(lease) for lease in leases),
                *now_params,
            ],
        )
        renewed = {Delivery._meta.pk.to_python(pk): datetime_read(lease) for pk, lease in cursor.fetchall()}
    for delivery in deliveries:
        if delivery.pk in renewed:
            delivery.lease_expires_at = renewed[delivery.pk]
    return len(renewed) == len(deliveries)

"""Recording what became of claimed deliveries: success, retry after back-off, final failure, skip, release."""

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from delivery import counters
from delivery.claimed import ClaimedDelivery
from delivery.db_clock import DatabaseNow, datetime_read, now_sql
from delivery.models import Delivery
from delivery.value_lists import one_of_sql
from delivery.wakes import Deferral, deferral_record
from notifications.services import delivery_failed_notify, subscription_paused_notify
from outbound.client import Exchange
from outbound.retry import retry_after_seconds, retry_delay
from subscriptions.models import Subscription
from subscriptions.services import subscription_pause_by_id

logger = logging.getLogger(__name__)

_RETRY_AFTER_STATUSES = {429, 503}
# A claimed delivery: as a batch holds it, or as the sweeper loads it when taking back an expired claim.
Claimed = ClaimedDelivery | Delivery


def _claimed_update(deliveries: list[Claimed], *, counted: str | None, **changes) -> list[datetime | None]:
    """Update deliveries only while they are still the claim this worker made (same lease); the next attempt
    times of those that were. A `DatabaseNow` value is the database's time, the clock leases and due times share.
    Those updated are added to the `counted` outcome's total (delivery/counters.py), on PostgreSQL in the same
    statement.

    Written as SQL: the ORM's update spent ~0.9 ms of CPU compiling per batch (measured), about a quarter of
    a one-delivery batch.
    """
    assignments, values = [], []
    for name, value in changes.items():
        field = Delivery._meta.get_field(name)
        if isinstance(value, DatabaseNow):
            sql, params = now_sql(plus_seconds=value.plus_seconds)
        else:
            sql, params = "%s", [field.get_db_prep_save(value, connection)]
        assignments.append(f"{connection.ops.quote_name(field.column)} = {sql}")
        values.extend(params)
    prepared = connection.ops.adapt_datetimefield_value
    ids, ids_params = one_of_sql(
        "id", [Delivery._meta.pk.get_db_prep_value(delivery.pk, connection) for delivery in deliveries]
    )
    held = sorted({delivery.lease_expires_at for delivery in deliveries})
    leases, leases_params = one_of_sql("lease_expires_at", [prepared(lease) for lease in held])
    sql = (
        f"UPDATE {Delivery._meta.db_table} SET {', '.join(assignments)}"
        f" WHERE {ids} AND status = %s AND {leases} RETURNING next_attempt_at"
    )
    params = [*values, *ids_params, Delivery.Status.SENDING, *leases_params]
    in_statement = counted is not None and connection.vendor == "postgresql"
    if in_statement:
        sql, count_params = counters.counted_update_sql(update_sql=sql, returning="next_attempt_at", outcome=counted)
        params.extend(count_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = [datetime_read(next_attempt_at) for (next_attempt_at,) in cursor.fetchall()]
    if counted is not None and not in_statement:
        counters.counters_add(amounts={counted: len(updated)})
    return updated


def is_success(exchange: Exchange) -> bool:
    return exchange.status is not None and 200 <= exchange.status < 300


def deliveries_outcome_record(*, results: list[tuple[Claimed, Exchange]]) -> dict:
    """2xx succeeds; anything else fails the attempt. One update per status code for the successes and per kind of
    failure (same attempt, answer and Retry-After), so a batch's failures wait and come back together.
    The failed ones' next attempt times."""
    succeeded: dict[int, list[Claimed]] = defaultdict(list)
    failed: dict[tuple, list[Claimed]] = defaultdict(list)
    for delivery, exchange in results:
        if is_success(exchange):
            succeeded[exchange.status].append(delivery)
            continue
        retry_after = None
        if exchange.status in _RETRY_AFTER_STATUSES:
            retry_after = retry_after_seconds(exchange.header("Retry-After"), now=timezone.now())
        error = exchange.error or f"endpoint answered {exchange.status}"
        failed[(delivery.attempts, exchange.status, error, retry_after)].append(delivery)
    next_attempts = {}
    for (_, status_code, error, retry_after), deliveries in failed.items():
        next_attempt = deliveries_failure_record(
            deliveries=deliveries, error=error, status_code=status_code, retry_after=retry_after
        )
        next_attempts.update(dict.fromkeys((delivery.pk for delivery in deliveries), next_attempt))
    for status_code, deliveries in succeeded.items():
        _finish(deliveries, status=Delivery.Status.SUCCEEDED, last_status_code=status_code, last_error="")
    return next_attempts


def _finish(deliveries: list[Claimed], *, status: str, **changes) -> int:
    """Close claimed deliveries in a final status (its outcome counted); how many were still this worker's."""
    return len(
        _claimed_update(
            deliveries,
            counted=status,
            status=status,
            lease_expires_at=None,
            next_attempt_at=None,
            completed_at=DatabaseNow(),
            updated_at=DatabaseNow(),
            **changes,
        )
    )


def delivery_failure_record(
    *,
    delivery: Claimed,
    error: str,
    status_code: int | None = None,
    retry_after: float | None = None,
    final: bool = False,
) -> datetime | None:
    """One delivery's failed attempt: see deliveries_failure_record."""
    return deliveries_failure_record(
        deliveries=[delivery], error=error, status_code=status_code, retry_after=retry_after, final=final
    )


def deliveries_failure_record(
    *,
    deliveries: list[Claimed],
    error: str,
    status_code: int | None = None,
    retry_after: float | None = None,
    final: bool = False,
) -> datetime | None:
    """Failed attempts of one subscription's deliveries at the same attempt: retry them together after one back-off,
    or fail them for good (pausing an auto-disable subscription). Their next attempt time (by the database's clock;
    None also when the claims were no longer this worker's)."""
    first = deliveries[0]
    subscription = first.subscription
    if final:
        # The mapping failed on these events: final for them, and counted for the subscription by the batch
        # (mapping_failures_record), so one odd event does not pause it.
        _finish(deliveries, status=Delivery.Status.FAILED, last_status_code=status_code, last_error=error)
        return None
    if first.attempts > subscription.max_retries:
        # The failure, the pause and the notification that tells of either commit together (an outbox).
        with transaction.atomic():
            failed = _finish(deliveries, status=Delivery.Status.FAILED, last_status_code=status_code, last_error=error)
            if failed and subscription.auto_disable:
                attempts = first.attempts
                retries = f"retries exhausted after {attempts} attempt{'' if attempts == 1 else 's'}"
                _pause(subscription=subscription, reason=f"{retries}: {error}")
            elif failed:
                delivery_failed_notify(subscription=subscription, count=failed, error=error)
        return None
    delay = retry_delay(
        first.attempts,
        base=settings.OUTFLOW_RETRY_BASE_SECONDS,
        max_delay=settings.OUTFLOW_RETRY_MAX_DELAY_SECONDS,
        retry_after=retry_after,
    )
    return _wait(
        deliveries=deliveries,
        status=Delivery.Status.RETRYING,
        until=DatabaseNow(plus_seconds=delay),
        delay=delay,
        changes={"last_status_code": status_code, "last_error": error},
        counted=counters.RETRIED,
    )


def delivery_lost_record(*, delivery: Claimed, error: str) -> None:
    """A claim whose worker stopped: the attempt counts, and it goes again now unless retries ran out."""
    if delivery.attempts > delivery.subscription.max_retries:
        delivery_failure_record(delivery=delivery, error=error)
        return
    _wait(
        deliveries=[delivery],
        status=Delivery.Status.RETRYING,
        until=DatabaseNow(),
        delay=0,
        changes={"last_status_code": None, "last_error": error},
        counted=counters.RETRIED,
    )


def _pause(*, subscription: Subscription, reason: str) -> None:
    if subscription_pause_by_id(subscription_id=subscription.pk, reason=reason):
        logger.warning("subscription %s paused: its deliveries fail for good", subscription.pk)
        subscription_paused_notify(subscription=subscription, reason=reason)


def mapping_failures_record(
    *, subscription: Subscription, failed: int, in_a_row: int, mapped: bool, error: str
) -> None:
    """A batch's deliveries failed by the mapping (`failed`, the last `in_a_row` of them after the last one it
    mapped; `mapped`: whether it mapped any): the subscription's run of them goes on, or starts again after one
    mapped. Past OUTFLOW_MAPPING_ERRORS_TO_PAUSE in a row an auto-disable subscription pauses; short of it, or
    without auto-disable, the customer is told with delivery.failed (at most one an interval, with a count)."""
    table = Subscription._meta.db_table
    with connection.cursor() as cursor:
        if not failed:
            cursor.execute(
                f"UPDATE {table} SET mapping_failures = 0 WHERE id = %s AND mapping_failures > 0", [_id(subscription)]
            )
            return
        cursor.execute(
            f"UPDATE {table} SET mapping_failures = CASE WHEN %s THEN %s ELSE mapping_failures + %s END"
            f" WHERE id = %s RETURNING mapping_failures",
            [mapped, in_a_row, in_a_row, _id(subscription)],
        )
        row = cursor.fetchone()
    in_a_row_now = row[0] if row else 0
    limit = settings.OUTFLOW_MAPPING_ERRORS_TO_PAUSE
    if subscription.auto_disable and in_a_row_now >= limit:
        _pause(
            subscription=subscription,
            reason=f"{in_a_row_now} deliveries in a row failed by the mapping; the last: {error}",
        )
        return
    delivery_failed_notify(subscription=subscription, count=failed, error=error)


def _id(subscription: Subscription):
    return Subscription._meta.pk.get_db_prep_value(subscription.pk, connection)


def _wait(
    *,
    deliveries: list[Claimed],
    status: str,
    until: datetime | DatabaseNow,
    delay: float,
    changes: dict,
    counted: str | None = None,
) -> datetime | None:
    """Make deliveries wait until a time (their back-off): the rows say when they are due, and the wait is recorded
    as a deferral of their subscription (a short one wakes it then). The time stored, if any was."""
    updated = _claimed_update(
        deliveries,
        counted=counted,
        status=status,
        next_attempt_at=until,
        lease_expires_at=None,
        updated_at=DatabaseNow(),
        **changes,
    )
    if updated:
        subscription_id = deliveries[0].subscription_id
        deferral = Deferral(seconds=delay, reason="back_off")
        transaction.on_commit(lambda: deferral_record(subscription_id=subscription_id, deferral=deferral))
    return updated[0] if updated else None


def deliveries_release(*, deliveries: list[Claimed]) -> None:
    """Hand back claimed deliveries that were not attempted (no answer before them, a wait, the batch out of time, the
    lease lost): their attempt not counted, due as they were. Whatever stopped their batch (an open circuit, a
    slow-down, the rate limit) holds the drains that would claim them."""
    for attempts_before, group in _by_attempts_before(deliveries).items():
        _claimed_update(
            group,
            counted=None,
            status=Delivery.Status.RETRYING if attempts_before else Delivery.Status.PENDING,
            attempts=attempts_before,
            lease_expires_at=None,
            updated_at=DatabaseNow(),
        )


def _by_attempts_before(deliveries: list[Claimed]) -> dict[int, list[Claimed]]:
    groups: dict[int, list[Claimed]] = defaultdict(list)
    for delivery in deliveries:
        groups[delivery.attempts - 1].append(delivery)
    return groups


def deliveries_skip(*, deliveries: list[Claimed], reason: str) -> None:
    """Claimed deliveries of a paused subscription: skipped, no attempt counted (recover can send them)."""
    for attempts_before, group in _by_attempts_before(deliveries).items():
        _finish(group, status=Delivery.Status.SKIPPED, attempts=attempts_before, last_error=reason)

"""Running totals of delivery outcomes (DeliveryCounter), added to as the outcomes are recorded, read by /metrics.

An outcome's total is added to in the very statement that records the outcome (a data-modifying CTE on
PostgreSQL), so it costs no round trip and cannot drift from the rows: the counter moves only when the update
did. Each addition goes to a random shard of the outcome's rows; every statement touches one row, so two writers
never wait on each other for long, and never deadlock.
"""

import random

from django.db import connection
from django.db.models import Sum

from delivery.models import DeliveryCounter

SHARDS = 16
CREATED = "created"
SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"
RETRIED = "retried"
OUTCOMES = (CREATED, SUCCEEDED, FAILED, SKIPPED, RETRIED)

_TABLE = DeliveryCounter._meta.db_table
_UPSERT = (
    f"INSERT INTO {_TABLE} (outcome, shard, total) {{rows}}"
    f" ON CONFLICT (outcome, shard) DO UPDATE SET total = {_TABLE}.total + EXCLUDED.total"
)


def counted_update_sql(*, update_sql: str, returning: str, outcome: str) -> tuple[str, list]:
    """An `UPDATE … RETURNING returning` that also adds the rows it changed to an outcome's total (PostgreSQL):
    the statement and the parameters that follow the update's own."""
    upsert = _UPSERT.format(rows="SELECT %s, %s, count(*) FROM changed HAVING count(*) > 0")
    return (
        f"WITH changed AS ({update_sql}), counted AS ({upsert}) SELECT {returning} FROM changed",
        [outcome, random.randrange(SHARDS)],
    )


def counters_add(*, amounts: dict[str, int]) -> None:
    """Add to outcomes' totals in one statement (rows in outcome order, so concurrent callers lock alike)."""
    amounts = {outcome: amount for outcome, amount in sorted(amounts.items()) if amount}
    if not amounts:
        return
    shard = random.randrange(SHARDS)
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT.format(rows="VALUES " + ", ".join(["(%s, %s, %s)"] * len(amounts))),
            [value for outcome, amount in amounts.items() for value in (outcome, shard, amount)],
        )


def counter_totals() -> dict[str, int]:
    """Each outcome's total since the database was made (at most SHARDS rows an outcome are read)."""
    totals = dict(DeliveryCounter.objects.values("outcome").annotate(sum=Sum("total")).values_list("outcome", "sum"))
    return {outcome: int(totals.get(outcome) or 0) for outcome in OUTCOMES}

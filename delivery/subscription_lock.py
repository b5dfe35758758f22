"""Holding subscriptions while a transaction writes rows that point at them (request log rows, outcomes)."""

from django.db import connection

from subscriptions.models import Subscription


def subscriptions_kept(*, subscription_ids: list) -> set:
    """Those of these subscriptions that still exist, each held until commit (PostgreSQL's FOR KEY SHARE): a delete
    of one waits for the transaction, or the transaction finds it gone, instead of writing rows that point at nothing
    (a foreign key error). SQLite, which `make run` uses, runs one writing transaction at a time."""
    if not subscription_ids:
        return set()
    ids = [Subscription._meta.pk.get_db_prep_value(pk, connection) for pk in subscription_ids]
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Subscription._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))}){lock}", ids
        )
        return {Subscription._meta.pk.to_python(pk) for (pk,) in cursor.fetchall()}

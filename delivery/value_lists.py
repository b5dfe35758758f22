"""Lists of values (ids, leases) in the batch's raw SQL."""

from django.db import connection


def one_of_sql(column: str, values: list) -> tuple[str, list]:
    """SQL for `column` being one of `values` (already in the database's form), and its parameters.

    On PostgreSQL one array parameter: the statement's text is then the same for any number of values, so psycopg
    converts it once and caches it, where a statement with a placeholder per id (over its 50-parameter cache limit)
    was parsed again for every batch (~5% of an attempt's CPU, bench/attempt_profile.py).
    """
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

"""Inserting many new rows in one statement: PostgreSQL's COPY, `bulk_create` on other databases.

COPY takes the values as they are, where `bulk_create`'s INSERT quotes every value into the statement on
the client. CPU per row, measured: request log 150 -> 40 us, 1 KiB event 127 -> 31 us, delivery 82 -> 29 us.
"""

from typing import NamedTuple

from django.db import connection, models
from psycopg.types.json import Jsonb

from config.json_bytes import json_bytes


def copy_rows(model: type[models.Model], rows: list[NamedTuple]) -> None:
    """Insert new rows given as named tuples of their fields' values (a foreign key by its attname), with no model
    instance each: building a model instance per row and reading it back field by field was ~15% of an attempt's
    CPU (a request log row each) and a third of ingest's (an event and its deliveries)."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in rows[0]._fields]
    if missing := {field.attname for field in model._meta.concrete_fields if not field.db_returning} - {
        field.attname for field in fields
    }:
        # COPY gives a column left out its database default, not the model's: a NOT NULL error, or a wrong value.
        raise ValueError(f"rows for {model.__name__} lack {sorted(missing)}")
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row._asdict()) for row in rows])
        return
    json_at = [index for index, field in enumerate(fields) if isinstance(field, models.JSONField)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        with cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = list(row)
                for index in json_at:
                    values[index] = _copy_value(fields[index], values[index])
                copy.write_row(values)


def _copy_value(field: models.Field, value):
    return Jsonb(value, dumps=json_bytes) if isinstance(field, models.JSONField) and value is not None else value

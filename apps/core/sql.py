"""SQL pieces built from the ORM's own field handling, for the few writes that must be one
statement (a row lock held only inside it, issue 15)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def insert_select(
    instance: Model, *, source: str, expressions: Mapping[str, tuple[str, Sequence[Any]]] | None = None
) -> tuple[str, list[Any]]:
    """`INSERT INTO <table> (<columns>) SELECT <values> FROM <source>` writing the row
    `instance.save()` would insert: every concrete field through its `pre_save(add=True)` (so
    auto_now/auto_now_add stamp the instance as a save does) and `get_db_prep_save`, as
    Django's insert compiler does; one row per row of `source`, a CTE of the caller's statement
    (none when it matched nothing). `expressions` gives some fields (by name) an SQL value and
    its params instead, e.g. a value the statement itself decides."""
    expressions = expressions or {}
    meta = instance._meta
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []
    for field in meta.local_concrete_fields:
        if getattr(field, "generated", False):  # the database computes it; an insert leaves it out
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in expressions:
            sql, more = expressions[field.name]
            values.append(sql)
            params.extend(more)
            continue
        value = field.get_db_prep_save(field.pre_save(instance, add=True), connection=connection)
        placeholder = getattr(field, "get_placeholder", None)
        values.append(placeholder(value, None, connection) if placeholder else "%s")
        params.append(value)
    unknown = set(expressions) - {field.name for field in meta.local_concrete_fields}
    if unknown:
        raise ValueError(f"{meta.label} has no fields {sorted(unknown)}")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 (names from the model, values as params)
        f"SELECT {', '.join(values)} FROM {source}"
    )
    return sql, params

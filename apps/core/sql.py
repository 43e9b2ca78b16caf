"""SQL pieces built from the ORM's own field handling, for the few writes that must be one
statement (a row lock held only inside it, issue 15), and a cursor binding its parameters on the
server, for the writes of many rows in one statement (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper
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


@contextmanager
def server_bound_cursor() -> Iterator[CursorWrapper]:
    """A cursor on Django's connection that sends its parameters apart from the statement
    (psycopg's server-side binding), wrapped as Django's own cursors are (execute wrappers, the
    debug log and query counting see its statements). For statements whose parameters are
    large: Django's client-side cursor quotes every value into the SQL text in Python, which for
    an array of thousands of JSON texts cost more than the database's work."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    # (django-stubs type these methods' argument as a CursorWrapper: it is the DB-API cursor.)
    make = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    cursor = make(raw)  # type: ignore[arg-type]
    try:
        yield cursor
    finally:
        raw.close()

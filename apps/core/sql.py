"""SQL pieces built from the ORM's own field handling, for the few writes that must be one
statement (a row lock held only inside it, issue 15), a cursor binding its parameters on the
server, for the writes of many rows in one statement (issue 12), and a hot read run as a prepared
statement with a generic plan (issue 15)."""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, cast

import psycopg
import psycopg.errors
from django.conf import settings
from django.db import DatabaseError, connection, models
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


# --- a hot read as a prepared statement with a generic plan (issue 15) ---------------------------

# Of a market page's 3 ms in PostgreSQL, parsing and planning the statement were about half: its
# text is long (the JSON of each row is written by the statement) and the availability table has
# many indexes and statistics to weigh. A prepared statement with a generic plan is parsed and
# planned once per connection. Every value is written into its text as a literal except the few
# named `bound` (the clock, the viewer's partner, the cursor's position), so the one plan is made
# for the organization, filters and page size it serves, from their statistics; left to itself
# PostgreSQL kept planning each execution (its generic estimate for `expires_at > $1` is a third
# of the rows, which made the generic plan look dearer than the custom ones). The generic plan is
# asked for (plan_cache_mode) for that one statement only: set_config(..., true) lasts the
# implicit transaction of the one round trip (inside a transaction block of the caller's, the
# setting is left as it is, which lets PostgreSQL choose, so nothing leaks into the rest of it).
# The text is the registry's key; each connection keeps at most SQL_PREPARED_STATEMENTS of them
# (the least recently used is deallocated in the same round trip). The round trip starts with a
# SELECT, which django-pghistory's context wrapper leaves as it is.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class _Registry:
    """The prepared statements of one database connection: statement text -> name, least
    recently used first; names are never reused on a connection (a statement whose round trip
    failed is forgotten, whatever became of it on the server)."""

    def __init__(self) -> None:
        self.names: OrderedDict[str, str] = OrderedDict()
        self.counter = 0


_REGISTRIES: weakref.WeakKeyDictionary[Any, _Registry] = weakref.WeakKeyDictionary()
_REGISTRIES_LOCK = threading.Lock()  # connections of a process's threads share the mapping


def _registry() -> _Registry:
    raw = connection.connection
    with _REGISTRIES_LOCK:
        registry = _REGISTRIES.get(raw)
        if registry is None:
            registry = _REGISTRIES[raw] = _Registry()
    return registry


# The prepared texts already written: quoting every inline value into a page's 7 kB text took
# about 4% of a market request, for the same text each time. Keyed by the statement, the bound
# names and each inline value's type and repr (not the value alone: Decimal("1.0") equals
# Decimal("1.00") and True equals 1, but psycopg writes them differently). Past the bound the
# cache starts again (the texts a process serves are few: one per page shape and organization).
_TEXTS: dict[tuple[Any, ...], tuple[str, list[str]]] = {}
TEXTS_MAX_ENTRIES = 512


def _prepared_text(
    cursor: CursorWrapper, sql: str, params: Mapping[str, Any], bound: Sequence[str]
) -> tuple[str, list[str]]:
    """`sql` with the `bound` placeholders as $1, $2, ... (in order of first use) and every other
    value written in as psycopg quotes it; and the bound names in their $ order. Written once
    per statement and inline values (`_TEXTS`)."""
    key = (
        sql,
        tuple(bound),
        tuple((name, type(value), repr(value)) for name, value in params.items() if name not in bound),
    )
    known = _TEXTS.get(key)
    if known is not None:
        return known[0], list(known[1])
    text, order = _write_prepared_text(cursor, sql, params, bound)
    if len(_TEXTS) >= TEXTS_MAX_ENTRIES:
        _TEXTS.clear()
    _TEXTS[key] = (text, list(order))
    return text, order


def _write_prepared_text(
    cursor: CursorWrapper, sql: str, params: Mapping[str, Any], bound: Sequence[str]
) -> tuple[str, list[str]]:
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in bound:
            return match.group(0)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    numbered = _PLACEHOLDER.sub(number, sql)
    inline = {name: value for name, value in params.items() if name not in order}
    # mogrify: psycopg's own quoting, the same the client-side cursor applies to every statement.
    return cursor.cursor.mogrify(numbered, inline), order


def execute_prepared(cursor: CursorWrapper, sql: str, params: Mapping[str, Any], *, bound: Sequence[str]) -> None:
    """Run the read `sql` (`%(name)s` placeholders, values in `params`) as a prepared statement of
    this connection with a generic plan, leaving `cursor` on its rows. Plain execution when
    SQL_PREPARED_STATEMENTS is 0. `bound` names the values that vary between executions of the
    same page; they must be compared with columns (their types are inferred from them)."""
    if settings.SQL_PREPARED_STATEMENTS <= 0:
        cursor.execute(sql, params)
        return
    text, order = _prepared_text(cursor, sql, params, bound)
    values = [params[name] for name in order]
    try:
        _execute_prepared(cursor, text, values)
    except DatabaseError as exc:
        # The server no longer has it (DEALLOCATE ALL or DISCARD ALL by someone else): prepared
        # again, once, where no transaction of the caller's was spoilt by the failure.
        if not isinstance(exc.__cause__, psycopg.errors.InvalidSqlStatementName) or connection.in_atomic_block:
            raise
        # What else it still has is unknown: every statement is prepared anew (new names).
        _registry().names.clear()
        _execute_prepared(cursor, text, values)
    # The rows are the last result (django-pghistory's wrapper may have moved there already).
    while cursor.nextset():
        pass


def _execute_prepared(cursor: CursorWrapper, text: str, values: list[Any]) -> None:
    registry = _registry()
    mode = "current_setting('plan_cache_mode')" if connection.in_atomic_block else "'force_generic_plan'"
    statements = [f"SELECT set_config('plan_cache_mode', {mode}, true)"]
    name = registry.names.get(text)
    if name is None:
        while len(registry.names) >= settings.SQL_PREPARED_STATEMENTS:
            statements.append(f"DEALLOCATE {registry.names.popitem(last=False)[1]}")
        registry.counter += 1
        name = f"cotton_{hashlib.blake2b(text.encode(), digest_size=6).hexdigest()}_{registry.counter}"
        statements.append(f"PREPARE {name} AS {text.replace('%', '%%')}")
    placeholders = ", ".join(["%s"] * len(values))
    statements.append(f"EXECUTE {name}({placeholders})" if values else f"EXECUTE {name}")
    try:
        cursor.execute(";\n".join(statements), values)
    except Exception:
        registry.names.pop(text, None)
        raise
    registry.names[text] = name
    registry.names.move_to_end(text)


# --- a row with its foreign keys' rows, read by a statement written once (issue 15) --------------


class JoinedRead:
    """What `Model.objects.select_related(*related)` reads for one row, as SQL written once: the
    model's concrete columns and each related row's (a LEFT JOIN for a nullable key), so a hot
    read can run as a prepared statement instead of compiling the ORM's query every call (the
    reservation's read: about two thirds of a reservation's time). `sql(extra, where)` adds
    expressions after the columns and the condition; `build(row)` makes the instances as the
    ORM does (`from_db`, each column through its field's converters, related rows cached on the
    instance, None for a null key) and returns them with the extra values. Tests hold the
    instances equal to the ORM's."""

    def __init__(self, model: type[Model], related: Sequence[str]) -> None:
        quote = connection.ops.quote_name
        self.model = model
        self.parts: list[tuple[Any, type[Model], list[Any], str]] = [
            (None, model, list(model._meta.concrete_fields), "t0")
        ]
        joins = []
        for number, name in enumerate(related, start=1):
            key = model._meta.get_field(name)
            if not isinstance(key, models.ForeignKey):
                raise TypeError(f"{model._meta.label}.{name} is not a foreign key")
            target = cast(type[Model], key.related_model)
            alias = f"t{number}"
            join = "LEFT JOIN" if key.null else "JOIN"
            joins.append(
                f"{join} {quote(target._meta.db_table)} {alias} "
                f"ON {alias}.{quote(key.target_field.column)} = t0.{quote(key.column)}"
            )
            self.parts.append((key, target, list(target._meta.concrete_fields), alias))
        self.columns = ", ".join(
            f"{alias}.{quote(field.column)}" for _, _, fields, alias in self.parts for field in fields
        )
        self.joins = "\n".join(joins)
        self.width = sum(len(fields) for _, _, fields, _ in self.parts)  # the columns `build` reads
        self.table = f"{quote(model._meta.db_table)} t0"

    def sql(self, *, extra: str, where: str) -> str:
        """`extra`: expressions after the columns (t0 is the model's row); `where`: its condition."""
        return f"SELECT {self.columns}, {extra}\nFROM {self.table}\n{self.joins}\nWHERE {where}"

    @cached_property
    def _converters(self) -> list[list[tuple[int, Any, list[Any]]]]:
        """Per part, (index, column, converters) of its fields that have any (a JSONField's
        from_db_value, say): worked out once, on first use, where a connection is at hand."""
        found = []
        for _, _, fields, alias in self.parts:
            part = []
            for index, field in enumerate(fields):
                column = field.get_col(alias)
                converters = field.get_db_converters(connection) + connection.ops.get_db_converters(column)
                if converters:
                    part.append((index, column, converters))
            found.append(part)
        return found

    def build(self, row: Sequence[Any]) -> tuple[Any, tuple[Any, ...]]:
        position = 0
        main: Any = None
        for (key, model, fields, _), converters in zip(self.parts, self._converters, strict=True):
            values = list(row[position : position + len(fields)])
            position += len(fields)
            for index, column, functions in converters:
                for convert in functions:
                    values[index] = convert(values[index], column, connection)
            names = [field.attname for field in fields]
            if key is None:
                main = model.from_db(connection.alias, names, values)
            elif values[fields.index(model._meta.pk)] is None:
                key.set_cached_value(main, None)
            else:
                key.set_cached_value(main, model.from_db(connection.alias, names, values))
        return main, tuple(row[position:])

"""core.sql.execute_prepared (issue 15): a read run as a prepared statement of the connection,
with a generic plan, every value but the bound ones written into its text. It answers what the
plain statement answers; it is prepared once per connection and text and then only executed; its
plan is the generic one outside a transaction and the setting is back after the round trip; inside
a transaction of the caller's the setting is left alone; the least recently used statement is
deallocated past SQL_PREPARED_STATEMENTS; a statement the server forgot is prepared again; 0 turns
it off."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from apps.core import sql as core_sql
from apps.core.sql import execute_prepared

# A read over a real table with values of several kinds: a bound integer (the floor), inline text
# with a quote and a percent sign, an inline list, an inline limit.
SQL = """
SELECT id, app_label, model, %(note)s::text AS note
FROM django_content_type
WHERE id > %(floor)s AND app_label = ANY(%(labels)s)
ORDER BY id
LIMIT %(limit)s"""


def _params(floor: int, *, limit: int = 50) -> dict[str, Any]:
    return {"note": "50% o'clock; $1", "floor": floor, "labels": ["auth", "contenttypes", "sessions"], "limit": limit}


def _plain(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(SQL, params)
        return cursor.fetchall()


def _prepared(params: dict[str, Any], sql: str = SQL) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params, bound=("floor",))
        return cursor.fetchall()


def _statements() -> list[tuple[str, str, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE name LIKE 'cotton\\_%%' ORDER BY prepare_time"
        )
        return cursor.fetchall()


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return str(cursor.fetchone()[0])


@pytest.fixture
def fresh_connection():
    """A connection with no prepared statement of an earlier test."""
    connection.close()
    yield
    connection.close()


@pytest.mark.django_db
def test_it_answers_what_the_plain_statement_answers():
    from django.contrib.contenttypes.models import ContentType

    # (Content type ids grow each time a transactional test flushes the database.)
    last = ContentType.objects.order_by("-id").values_list("id", flat=True)[0]
    for floor in (0, 3, last):
        expected = _plain(_params(floor))
        assert _prepared(_params(floor)) == expected
    assert expected == []
    rows = _prepared(_params(0))
    assert rows
    assert {row[1] for row in rows} <= {"auth", "contenttypes", "sessions"}
    assert {row[3] for row in rows} == {"50% o'clock; $1"}


@pytest.mark.django_db(transaction=True)
def test_prepared_once_per_text_and_run_with_a_generic_plan(fresh_connection):
    for floor in (0, 2, 4):
        assert _prepared(_params(floor)) == _plain(_params(floor))
        assert _setting() == "auto"  # only that round trip asked for the generic plan
    (statement,) = _statements()
    name, text, generic, custom = statement
    assert (generic, custom) == (3, 0)
    # (The server shows the round trip's text: the PREPARE's statement is in it.)
    assert f"PREPARE {name} AS" in text
    assert "id > $1 AND app_label = ANY('{auth,contenttypes,sessions}')" in text
    assert "LIMIT 50;" in text
    # Another page size is another text, so another statement.
    _prepared(_params(0, limit=5))
    assert len(_statements()) == 2


@pytest.mark.django_db
def test_inside_a_transaction_the_plan_cache_mode_is_left_alone():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        assert _prepared(_params(1)) == _plain(_params(1))
        assert _setting() == "force_custom_plan"


@pytest.mark.django_db(transaction=True)
def test_the_least_recently_used_statement_is_deallocated(fresh_connection):
    with override_settings(SQL_PREPARED_STATEMENTS=2):
        _prepared(_params(0, limit=1))
        _prepared(_params(0, limit=2))
        _prepared(_params(0, limit=1))  # used again: now the most recent
        _prepared(_params(0, limit=3))
        texts = [text for _, text, _, _ in _statements()]
        assert len(texts) == 2
        assert any("LIMIT 1" in text for text in texts)
        assert any("LIMIT 3" in text for text in texts)
        assert _prepared(_params(0, limit=2)) == _plain(_params(0, limit=2))
        assert len(_statements()) == 2


@pytest.mark.django_db(transaction=True)
def test_a_statement_the_server_forgot_is_prepared_again(fresh_connection):
    expected = _plain(_params(1))
    assert _prepared(_params(1)) == expected
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert _prepared(_params(1)) == expected
    ((_, _, generic, custom),) = _statements()
    assert (generic, custom) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_a_forgotten_statement_is_an_error_not_a_silent_retry(fresh_connection):
    _prepared(_params(1))
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError, match="does not exist"), transaction.atomic():
        _prepared(_params(1))
    # The next call (no transaction) prepares it again.
    assert _prepared(_params(1)) == _plain(_params(1))


@pytest.mark.django_db(transaction=True)
def test_zero_runs_the_plain_statement(fresh_connection):
    with override_settings(SQL_PREPARED_STATEMENTS=0):
        assert _prepared(_params(2)) == _plain(_params(2))
    assert _statements() == []


@pytest.mark.django_db(transaction=True)
def test_each_connection_prepares_its_own(fresh_connection):
    _prepared(_params(0))
    connection.close()  # a new connection has none of them
    assert _statements() == []
    assert _prepared(_params(0)) == _plain(_params(0))
    assert len(_statements()) == 1


@pytest.mark.django_db
def test_a_text_is_written_once_per_statement_and_inline_values():
    core_sql._TEXTS.clear()
    for floor in (0, 2, 4):  # only a bound value changes: the same text
        assert _prepared(_params(floor)) == _plain(_params(floor))
    assert len(core_sql._TEXTS) == 1
    ((text, order),) = core_sql._TEXTS.values()
    assert order == ["floor"]
    assert "id > $1 AND app_label = ANY('{auth,contenttypes,sessions}')" in text
    # Another inline value: another text, each answering its own rows.
    assert _prepared(_params(0, limit=1)) == _plain(_params(0, limit=1))
    assert len(_prepared(_params(0, limit=1))) == 1
    assert len(core_sql._TEXTS) == 2


@pytest.mark.django_db
def test_equal_values_psycopg_writes_differently_are_different_texts():
    core_sql._TEXTS.clear()
    statement = "SELECT %(x)s AS x"
    texts = {}
    with connection.cursor() as cursor:
        for value in (Decimal("1.0"), Decimal("1.00"), 1, True, 1.0):
            texts[repr(value)] = core_sql._prepared_text(cursor, statement, {"x": value}, ())[0]
            assert texts[repr(value)] == core_sql._write_prepared_text(cursor, statement, {"x": value}, ())[0]
            assert core_sql._prepared_text(cursor, statement, {"x": value}, ())[0] == texts[repr(value)]
    # Each value has its own entry; the float 1.0 is written as Decimal("1.0") is.
    assert len(core_sql._TEXTS) == 5
    assert texts == {
        "Decimal('1.0')": "SELECT 1.0 AS x",
        "Decimal('1.00')": "SELECT 1.00 AS x",
        "1": "SELECT 1 AS x",
        "True": "SELECT true AS x",
        "1.0": "SELECT 1.0 AS x",
    }


@pytest.mark.django_db
def test_past_its_bound_the_text_cache_starts_again(monkeypatch):
    core_sql._TEXTS.clear()
    monkeypatch.setattr(core_sql, "TEXTS_MAX_ENTRIES", 2)
    for limit in (1, 2, 3):
        assert _prepared(_params(0, limit=limit)) == _plain(_params(0, limit=limit))
    assert len(core_sql._TEXTS) == 1

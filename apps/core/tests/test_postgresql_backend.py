"""The project's database backend (apps/core/postgresql) and the model base's row loading
(core.models.BaseModel.from_db): what they read is what Django's own would read (issue 15)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.models import Model
from django.test import override_settings
from psycopg.pq import Format

from apps.core.postgresql.base import _PSYCOPG_LOADERS, _TIMESTAMPTZ_OID
from apps.organizations.models import Organization
from apps.organizations.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC

# Instants as PostgreSQL takes them, with the value Django's loader gives for each.
INSTANTS = [
    ("2026-12-08 01:46:37.123456+00", datetime.datetime(2026, 12, 8, 1, 46, 37, 123456, tzinfo=UTC)),
    ("2026-12-08 07:16:37+05:30", datetime.datetime(2026, 12, 8, 1, 46, 37, tzinfo=UTC)),
    ("2026-03-01 00:00:00-08", datetime.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ("2000-02-29 23:59:59.999999+00", datetime.datetime(2000, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
    ("1900-01-01 00:00:00+05:53:28", datetime.datetime(1899, 12, 31, 18, 6, 32, tzinfo=UTC)),
    ("0001-01-01 00:00:00+00", datetime.datetime(1, 1, 1, tzinfo=UTC)),
    ("9999-12-31 23:59:59.999999+00", datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-12-08 01:46:37.5+00", datetime.datetime(2026, 12, 8, 1, 46, 37, 500000, tzinfo=UTC)),
]
SELECT_INSTANTS = "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n"


def _read(cursor: object) -> list[datetime.datetime]:
    cursor.execute(SELECT_INSTANTS, [[text for text, _ in INSTANTS]])  # type: ignore[attr-defined]
    return [row[0] for row in cursor.fetchall()]  # type: ignore[attr-defined]


def test_the_connection_reads_timestamps_with_psycopgs_loader():
    connection.ensure_connection()
    assert connection.vendor == "postgresql"
    assert type(connections["default"]).__module__ == "apps.core.postgresql.base"
    assert connection.connection.info.parameter_status("TimeZone") == "UTC"
    loader = connection.connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
    assert loader is _PSYCOPG_LOADERS[Format.TEXT]
    assert not hasattr(loader, "timezone")  # not Django's (a Python subclass with a `timezone`)


def test_timestamps_read_are_djangos_values_and_zone():
    with connection.cursor() as cursor:
        ours = _read(cursor)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's loader, on this cursor
        djangos = _read(cursor)

    assert ours == djangos == [value for _, value in INSTANTS]
    assert all(value.tzinfo is UTC for value in ours)
    assert all(value.tzinfo is UTC for value in djangos)


def test_a_server_side_cursor_reads_the_same_values():
    OrganizationFactory.create_batch(3)
    with transaction.atomic():
        read = [o.created_at for o in Organization.objects.order_by("created_at", "id").iterator(chunk_size=1)]
    assert read == list(Organization.objects.order_by("created_at", "id").values_list("created_at", flat=True))
    assert len(read) >= 3
    assert all(value.tzinfo is UTC for value in read)


def test_a_saved_rows_timestamp_reads_back_equal_and_in_utc():
    organization = OrganizationFactory()
    stored = Organization.objects.get(pk=organization.pk)
    assert stored.created_at == organization.created_at
    assert stored.created_at.tzinfo is UTC


@override_settings(USE_TZ=False)
def test_without_use_tz_timestamps_are_djangos_naive_local_times():
    # Django sets the session to TIME_ZONE and reads naive values; its loader goes on each cursor.
    assert connection.timezone is None
    instants = [(text, value) for text, value in INSTANTS if value.year < 9999]  # 10000 in Kolkata
    with connection.cursor() as cursor:
        cursor.execute(SELECT_INSTANTS, [[text for text, _ in instants]])
        read = [row[0] for row in cursor.fetchall()]
    local = ZoneInfo("Asia/Kolkata")
    assert read == [value.astimezone(local).replace(tzinfo=None) for _, value in instants]


# --- BaseModel.from_db: rows of only() / defer() -----------------------------------------------

LOADED = ["id", "code", "name", "city", "is_active", "settings"]


def test_a_row_loaded_with_some_fields_is_the_full_rows_values_and_defers_the_rest():
    organization = OrganizationFactory(city="Rajkot", settings={"desk": {"open": True}})
    full = Organization.objects.get(pk=organization.pk)
    some = Organization.objects.only(*LOADED).get(pk=organization.pk)

    assert {name: getattr(some, name) for name in LOADED} == {name: getattr(full, name) for name in LOADED}
    deferred = some.get_deferred_fields()
    assert {"created_at", "pan", "legal_name"} <= deferred
    assert not deferred & set(LOADED)
    assert some._state.adding is False
    assert some._state.db == "default"
    assert some.created_at == full.created_at  # a deferred field still loads on use
    assert Organization.objects.defer("name").get(pk=organization.pk).get_deferred_fields() == {"name"}


def test_queries_loading_different_fields_in_turn_each_get_their_own_layout():
    organizations = sorted(OrganizationFactory.create_batch(3), key=lambda o: o.code)
    ids = [o.pk for o in organizations]
    by_code = Organization.objects.filter(pk__in=ids).only("code").order_by("code")
    by_name = Organization.objects.filter(pk__in=ids).only("name", "created_at").order_by("code")
    for _ in range(2):  # alternating: the plan the class keeps is made again for each query
        codes = list(by_code._chain())
        names = list(by_name._chain())
        assert [o.code for o in codes] == [o.code for o in organizations]
        assert all(o.get_deferred_fields() >= {"name", "created_at"} for o in codes)
        assert [(o.name, o.created_at) for o in names] == [(o.name, o.created_at) for o in organizations]
        assert all("code" in o.get_deferred_fields() for o in names)


def test_a_full_row_is_read_as_django_reads_it():
    organization = OrganizationFactory(city="Rajkot")
    read = Organization.objects.get(pk=organization.pk)
    assert Organization.from_db.__func__ is not Model.from_db.__func__  # the base's own is in use
    assert read.get_deferred_fields() == set()
    assert read._state.adding is False
    columns = Organization.objects.filter(pk=organization.pk).values(
        *[f.attname for f in Organization._meta.concrete_fields]
    )
    assert {f.attname: getattr(read, f.attname) for f in Organization._meta.concrete_fields} == columns.get()

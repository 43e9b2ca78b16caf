"""Django's PostgreSQL backend, reading `timestamptz` values with psycopg's own loader (issue 15).

Django registers a loader of its own for every `timestamptz` column: a Python subclass of
psycopg's loader that sets each value's tzinfo to the connection's time zone. Timed, it cost
about 8 us a value (100 timestamps: 1.25 ms against 0.42 with psycopg's), so a 100-row admin page with
two timestamp columns spent 1.6 ms in it. With `USE_TZ` and no `TIME_ZONE` for the database (this
project), the session's TimeZone is 'UTC' (Django sets it on every new connection) and psycopg's
C loader already answers `datetime.timezone.utc`, the very tzinfo Django's would set: the same
values, without a Python call per value. Any other configuration (a database TIME_ZONE, USE_TZ
off, as tests switch it) gets Django's loader on each cursor, as Django does when the
connection's loader disagrees. apps/core/tests/test_postgresql_backend.py holds the values equal
to Django's loader's.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import get_adapters_template, register_tzloader
from django.utils.asyncio import async_unsafe
from psycopg import adapt, postgres
from psycopg.pq import Format

_TIMESTAMPTZ_OID = postgres.types["timestamptz"].oid
# psycopg's own loaders (the C ones where psycopg's C extension is installed, as here).
_PSYCOPG_LOADERS: dict[Format, Any] = {
    Format.TEXT: postgres.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT),
    Format.BINARY: postgres.adapters.get_loader(_TIMESTAMPTZ_OID, Format.BINARY),
}


@lru_cache
def _native_utc_adapters() -> adapt.AdaptersMap:
    """Django's adapters (its JSON, inet and range adapters) with psycopg's `timestamptz` loaders."""
    adapters = adapt.AdaptersMap(get_adapters_template(True, datetime.UTC))
    for loader in _PSYCOPG_LOADERS.values():
        adapters.register_loader(_TIMESTAMPTZ_OID, loader)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def native_utc_timestamps(self) -> bool:
        """Whether psycopg's loader reads this connection's timestamps as Django would: the
        session in UTC and UTC the zone Django would set on every value."""
        return bool(settings.USE_TZ) and self.timezone is datetime.UTC

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if self.native_utc_timestamps:
            params["context"] = _native_utc_adapters()
        return params

    @async_unsafe
    def create_cursor(self, name: str | None = None) -> Any:
        # Django's create_cursor (django/db/backends/postgresql/base.py, 5.2), but for the time
        # zone check: Django compares its zone with the `timezone` of the connection's loader,
        # which psycopg's loader has not.
        if name:
            if self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
                cursor = base.ServerSideCursor(  # type: ignore[attr-defined]  # Django's, not in the stubs
                    self.connection, name=name, scrollable=False, withhold=self.connection.autocommit
                )
            else:
                cursor = self.connection.cursor(name, scrollable=False, withhold=self.connection.autocommit)
        else:
            cursor = self.connection.cursor()
        loader = self.connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
        if loader is _PSYCOPG_LOADERS[Format.TEXT]:
            if not self.native_utc_timestamps:  # the settings changed since the connection was made
                register_tzloader(self.timezone, cursor)
        elif self.timezone != loader.timezone:
            register_tzloader(self.timezone, cursor)
        return cursor

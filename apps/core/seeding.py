"""Demo-data seeders, registered by each app in `AppConfig.ready()` and run by `seed_demo`.

Core imports no domain app; each app contributes its part in dependency order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SeedReport:
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (who, login, secret/how)
    lines: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # shared between seeders (e.g. organizations)


Seeder = Callable[[SeedReport], None]


@dataclass(frozen=True)
class _Registered:
    order: int
    name: str
    fn: Seeder
    master: bool


_SEEDERS: list[_Registered] = []


def register_seeder(order: int, name: str, seeder: Seeder, *, master: bool = False) -> None:
    """Register an app's seeder. `master=True` marks reference data safe for production
    (commodities, units, terms, gazetteer): `seed_masters` runs only those; `seed_demo` runs all."""
    if all(existing.name != name for existing in _SEEDERS):
        _SEEDERS.append(_Registered(order, name, seeder, master))


def seeders(*, masters_only: bool = False) -> list[tuple[str, Seeder]]:
    chosen = [s for s in _SEEDERS if s.master or not masters_only]
    return [(s.name, s.fn) for s in sorted(chosen, key=lambda s: s.order)]

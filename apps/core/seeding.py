"""Demo-data seeders, registered by each app in `AppConfig.ready()` and run by `seed_demo`.

Core imports no domain app; each app contributes its part in dependency order. Apps whose demo
data includes logins also register a lister (`register_demo_logins`) that reads them back from
the database: `seed_demo` prints them after seeding, `demo_logins` on demand (`make run` prints
them once its servers are up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# (who, login, secret or how to sign in)
Login = tuple[str, str, str]


@dataclass
class SeedReport:
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


LoginLister = Callable[[], list[Login]]
_LOGIN_LISTERS: list[tuple[int, str, LoginLister]] = []


def register_demo_logins(order: int, name: str, lister: LoginLister) -> None:
    """Register an app's lister of the demo logins that exist in the database (none before
    seeding)."""
    if all(existing != name for _, existing, _ in _LOGIN_LISTERS):
        _LOGIN_LISTERS.append((order, name, lister))


def demo_logins() -> list[Login]:
    return [login for _, _, lister in sorted(_LOGIN_LISTERS, key=lambda x: x[0]) for login in lister()]


def format_demo_logins(logins: list[Login]) -> list[str]:
    """The logins as aligned lines under a heading (nothing when there are none)."""
    if not logins:
        return []
    width = max(len(who) for who, _, _ in logins)
    login_width = max(len(login) for _, login, _ in logins)
    return ["Demo logins", *(f"  {who.ljust(width)}  {login.ljust(login_width)}  {how}" for who, login, how in logins)]

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
_SEEDERS: list[tuple[int, str, Seeder]] = []


def register_seeder(order: int, name: str, seeder: Seeder) -> None:
    if all(existing != name for _, existing, _ in _SEEDERS):
        _SEEDERS.append((order, name, seeder))


def seeders() -> list[tuple[str, Seeder]]:
    return [(name, fn) for _, name, fn in sorted(_SEEDERS, key=lambda s: s[0])]

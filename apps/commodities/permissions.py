"""Who may change the global masters.

Reading commodities, units, schedules, terms and commissions is open to every signed-in user.
Writing needs the model permission (`commodities.add_commodity`, `commodities.change_tradeterm`
...), which the platform admin role holds. `actor=None` is the system itself (seeders).
"""

from __future__ import annotations

from typing import Any

from apps.core.errors import PermissionDenied

ADD, CHANGE = "add", "change"


def ensure_can(actor: Any, action: str, model: str) -> None:
    """Raise PermissionDenied (403) unless `actor` holds `commodities.<action>_<model>`."""
    if actor is None:
        return
    permission = f"commodities.{action}_{model}"
    if not actor.has_perm(permission):
        raise PermissionDenied(f"You need the permission {permission} to change this master data.")

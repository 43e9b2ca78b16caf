"""Who may change the global masters.

Reading commodities, units, schedules, terms and commissions is open to every signed-in user.
Writing needs the model permission (`commodities.add_commodity`, `commodities.change_tradeterm`
...), which the platform admin role holds. `actor=None` is the system itself (seeders).
"""

from __future__ import annotations

from typing import Any

from apps.accounts.roles import Role
from apps.core.errors import PermissionDenied

# What each role may do with the global masters (accounts.roles registers it at ready()).
_MASTERS = ("unit", "commodity", "variety", "qualityparameter", "qualityschedule", "tradeterm", "commissionstructure")
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PLATFORM_ADMIN: [
        f"commodities.{action}_{model}" for model in _MASTERS for action in ("view", "add", "change")
    ],
}

ADD, CHANGE = "add", "change"


def ensure_can(actor: Any, action: str, model: str) -> None:
    """Raise PermissionDenied (403) unless `actor` holds `commodities.<action>_<model>`."""
    if actor is None:
        return
    permission = f"commodities.{action}_{model}"
    if not actor.has_perm(permission):
        raise PermissionDenied(f"You need the permission {permission} to change this master data.")

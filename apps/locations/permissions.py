"""Who may do what with locations. Reading is open to every signed-in user (a global master);
writing needs the model capabilities, which the platform admin role carries."""

from __future__ import annotations

from typing import Any

from apps.accounts.roles import Role
from apps.core.errors import PermissionDenied

# What each role may do with locations (accounts.roles registers it at ready()).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PLATFORM_ADMIN: ["locations.view_location", "locations.add_location", "locations.change_location"],
}

ADD_LOCATION = "locations.add_location"
CHANGE_LOCATION = "locations.change_location"


def _ensure(user: Any, permission: str) -> None:
    if not (user is not None and user.is_active and user.has_perm(permission)):
        raise PermissionDenied(f"You need the permission {permission}.")


def ensure_can_add_location(user: Any) -> None:
    _ensure(user, ADD_LOCATION)


def ensure_can_change_location(user: Any) -> None:
    _ensure(user, CHANGE_LOCATION)

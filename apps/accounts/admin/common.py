"""What the accounts admin screens share. No screen lives here."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import UserType


def _is_platform_admin(user: Any) -> bool:
    return getattr(user, "user_type", None) == UserType.SUPER_ADMIN or bool(user.is_superuser)

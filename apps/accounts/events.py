"""Event types of the accounts app and their payloads (no PII beyond ids and the user type)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User

USER_CREATED = "accounts.user.created"
USER_DEACTIVATED = "accounts.user.deactivated"
USER_REACTIVATED = "accounts.user.reactivated"


def user_payload(user: User) -> dict[str, Any]:
    return {
        "user_type": user.user_type,
        "is_active": user.is_active,
        "has_email": bool(user.email),
        "has_mobile": bool(user.mobile),
    }

"""What each role may do with users and the login machinery (registered in `AccountsConfig.ready()`).

`django_celery_beat` is a third-party app with no `ready()` of ours, so accounts declares the one
permission of it a role holds, under that app's label.
"""

from __future__ import annotations

from apps.accounts.roles import Role

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PLATFORM_ADMIN: [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_smsmessage",
        "accounts.view_otpcode",
    ],
    Role.ORGANIZATION_ADMIN: [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_smsmessage",
    ],
    Role.KYC_OFFICER: ["accounts.view_user", "accounts.view_smsmessage"],
    Role.DESK_MANAGER: ["accounts.view_user"],
    Role.RISK_OFFICER: ["accounts.view_user"],
}
CELERY_BEAT_ROLE_PERMISSIONS: dict[str, list[str]] = {Role.PLATFORM_ADMIN: ["django_celery_beat.view_periodictask"]}

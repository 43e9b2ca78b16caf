"""Roles are Django groups; capabilities are Django permissions (ARCHITECTURE section 7).

Each app declares what it grants each role in its `permissions.ROLE_PERMISSIONS` and registers
it here at `AppConfig.ready()` (`register_role_permissions`), so accounts names no permission
of an app above it. A data migration creates the groups; after every migrate `sync_roles`
attaches the registered permissions that exist by then, so roles pick up the capabilities of
apps added later without a hand edit. Permissions a role lists but that no installed app
defines yet are skipped (and attached once that app migrates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class Role:
    PLATFORM_ADMIN = "platform_admin"
    ORGANIZATION_ADMIN = "organization_admin"
    KYC_OFFICER = "kyc_officer"
    DESK_MANAGER = "desk_manager"
    RISK_OFFICER = "risk_officer"
    PARTNER_OWNER = "partner_owner"
    PARTNER_TRADER = "partner_trader"
    PARTNER_VIEWER = "partner_viewer"


STAFF_ROLES = (Role.ORGANIZATION_ADMIN, Role.KYC_OFFICER, Role.DESK_MANAGER, Role.RISK_OFFICER)
PARTNER_ROLES = (Role.PARTNER_OWNER, Role.PARTNER_TRADER, Role.PARTNER_VIEWER)

ALL_ROLES = (Role.PLATFORM_ADMIN, *STAFF_ROLES, *PARTNER_ROLES)

# app label -> role -> the permissions (dotted, of that app) the app grants the role.
_REGISTERED: dict[str, dict[str, tuple[str, ...]]] = {}


def register_role_permissions(app_label: str, granted: Mapping[str, Sequence[str]]) -> None:
    """Record what `app_label` grants each role (its `permissions.ROLE_PERMISSIONS`).

    Apps above accounts call this from their `AppConfig.ready()`; accounts registers itself and
    the apps below it (organizations, webhooks), which may not import accounts. An app grants
    only its own permissions, and only to roles that exist: a typo fails at start-up, not as a
    silently missing capability. Registering the same app again replaces its entry.
    """
    unknown_roles = sorted(set(granted) - set(ALL_ROLES))
    if unknown_roles:
        raise ImproperlyConfigured(f"{app_label} grants permissions to unknown roles: {unknown_roles}")
    foreign = sorted(p for perms in granted.values() for p in perms if p.split(".", 1)[0] != app_label)
    if foreign:
        raise ImproperlyConfigured(f"{app_label} may grant only its own permissions, not {foreign}")
    _REGISTERED[app_label] = {role: tuple(perms) for role, perms in granted.items()}


def role_permissions() -> dict[str, list[str]]:
    """Every role with the permissions the registered apps grant it (apps in label order, each
    permission once)."""
    merged: dict[str, list[str]] = {role: [] for role in ALL_ROLES}
    for app_label in sorted(_REGISTERED):
        for role, perms in _REGISTERED[app_label].items():
            merged[role].extend(p for p in perms if p not in merged[role])
    return merged


def sync_roles(group_model: Any = None, permission_model: Any = None) -> dict[str, int]:
    """Create every role's group and attach its existing permissions. Idempotent."""
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    merged = role_permissions()
    labels = {dotted.split(".", 1)[0] for perms in merged.values() for dotted in perms}
    # Every permission of the apps named, in one query (this runs after every migrate and after
    # every transactional test's flush).
    known = {
        f"{app_label}.{codename}": pk
        for app_label, codename, pk in permission_model.objects.filter(content_type__app_label__in=labels).values_list(
            "content_type__app_label", "codename", "pk"
        )
    }
    attached: dict[str, int] = {}
    for role, perms in merged.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = {known[dotted] for dotted in perms if dotted in known}
        group.permissions.add(*wanted)
        attached[role] = len(wanted)
    return attached


def sync_roles_after_migrate(*, sender: Any = None, **kwargs: Any) -> None:
    """post_migrate is sent once per installed app with models, each after that app's permissions
    were created: the roles are synced once, after the last one, when every permission exists
    (it ran 22 times per migrate, and per flush of a transactional test: 7 s each)."""
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is None or not with_models or sender is with_models[-1]:
        sync_roles()

"""Who may see and manage which organization's master data.

- Platform admins (SUPER_ADMIN) see every organization.
- Organization staff (INTERNAL) see their own organization only; any other answers 404.
- Partner users and applicants (EXTERNAL) see none of this: 403 on the list, 404 on the rest.

Seeing the organization decides between 404 and the rest; the model permissions then decide
between 403 and success: `organizations.view_organization` / `change_organization` for the
profile, and `view_`/`add_`/`change_` of `gstregistration`, `bankaccount`, `financialyear` and
`documentseries` for the master data under it (the `organization_admin` role holds them all,
other staff roles the `view_` ones; `ROLE_PERMISSIONS` below).

The services check the same again (`ensure_can_change_master_data`, `ensure_can_add_organization`):
`actor=None` is the system itself (seeders, numbering inside another app's service).

The user is duck-typed (`core.actors.Actor`: `user_type`, `organization_id`, `has_perm`): accounts
sits above this app.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q

from apps.core.actors import Actor
from apps.core.errors import NotFound, PermissionDenied
from apps.organizations.models import Organization

VIEW, ADD, CHANGE = "view", "add", "change"

ORGANIZATION = "organization"
GST_REGISTRATION = "gstregistration"
BANK_ACCOUNT = "bankaccount"
FINANCIAL_YEAR = "financialyear"
DOCUMENT_SERIES = "documentseries"

# What each role may do with organizations and their master data. Registered by accounts at its
# ready() (this app sits below accounts and may not import it, hence the role names as strings;
# an unknown name fails at start-up).
_MASTER_DATA = (GST_REGISTRATION, BANK_ACCOUNT, FINANCIAL_YEAR, DOCUMENT_SERIES)
_VIEW_MASTER_DATA = [f"organizations.view_{model}" for model in _MASTER_DATA]
_MANAGE_MASTER_DATA = [f"organizations.{action}_{model}" for model in _MASTER_DATA for action in (VIEW, ADD, CHANGE)]
_STAFF_READS = ["organizations.view_organization", *_VIEW_MASTER_DATA]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "platform_admin": [
        "organizations.view_organization",
        "organizations.add_organization",
        "organizations.change_organization",
        *_MANAGE_MASTER_DATA,
    ],
    "organization_admin": [
        "organizations.view_organization",
        "organizations.change_organization",
        *_MANAGE_MASTER_DATA,
    ],
    "kyc_officer": _STAFF_READS,
    "desk_manager": _STAFF_READS,
    "risk_officer": _STAFF_READS,
    "partner_owner": ["organizations.view_organization"],
    "partner_trader": ["organizations.view_organization"],
    "partner_viewer": ["organizations.view_organization"],
}


def organization_scope(user: Any) -> Q | None:
    """A filter on Organization of what `user` may see; None when it sees no organization."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    user_type = getattr(user, "user_type", None)
    if user_type == "SUPER_ADMIN":
        return Q()
    organization_id = getattr(user, "organization_id", None)
    if user_type == "INTERNAL" and organization_id is not None:
        return Q(pk=organization_id)
    return None


def ensure_has_perm(user: Any, action: str, model: str = ORGANIZATION) -> None:
    permission = f"organizations.{action}_{model}"
    if not user.has_perm(permission):
        raise PermissionDenied(f"You need the permission {permission}.")


def ensure_can_list_organizations(user: Any) -> Q:
    scope = organization_scope(user)
    if scope is None:
        raise PermissionDenied("Only platform admins and organization staff see organizations.")
    ensure_has_perm(user, VIEW)
    return scope


def ensure_can_add_organization(actor: Actor | None) -> None:
    """Only a holder of `organizations.add_organization` (the platform admin) opens a tenant."""
    if actor is None:
        return
    ensure_has_perm(actor, ADD, ORGANIZATION)


def ensure_can_change_master_data(actor: Actor | None, *, organization_id: UUID, action: str, model: str) -> None:
    """404 unless `actor` may see the organization (a superuser sees every one, as in the admin),
    then 403 without `organizations.<action>_<model>`. `actor=None` is the system."""
    if actor is None:
        return
    scope = Q() if getattr(actor, "is_superuser", False) else organization_scope(actor)
    if scope is None or not Organization.objects.filter(scope, pk=organization_id).exists():
        raise NotFound("No such organization.")
    ensure_has_perm(actor, action, model)

"""Who may do what in risk.

- Setting a credit limit (or requesting an increase above the organization's threshold): staff
  of the partner's organization with `risk.set_credit_limit` (risk officers, organization
  admins). Approving or rejecting a requested change: staff with `risk.approve_credit_limit`,
  never the requester (services.limits checks that).
- A partner's own users may read their limit, exposure and assessments (selectors scope reads),
  never change them: 403. Anyone outside the organization: 404, as if the partner did not exist.
- Risk officers' screens (dashboard, recommended limits): staff with `risk.view_creditaccount`.
- The exposure ledger and assessments take no actor: they are internal to other apps' services,
  which checked their own actor's rights.
"""

from __future__ import annotations

from uuid import UUID

from apps.accounts.models import User, UserType
from apps.accounts.roles import Role
from apps.core.errors import PermissionDenied
from apps.partners.permissions import is_staff_of
from apps.partners.selectors import partner_id_of
from apps.risk.errors import PartnerNotFound

# What each staff role may do in risk (accounts.roles registers it at ready()): the risk desk
# reads and runs credit limits, maker-checker and settings; the trade desk sees its partners'
# exposure and the checks of their postings.
_VIEW_RISK = [
    "risk.view_creditaccount",
    "risk.view_exposureentry",
    "risk.view_assessment",
    "risk.view_limitchange",
    "risk.view_exposurealert",
    "risk.view_risksettings",
]
_RUN_RISK = [
    *_VIEW_RISK,
    "risk.change_creditaccount",
    "risk.set_credit_limit",
    "risk.approve_credit_limit",
    "risk.change_risksettings",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ORGANIZATION_ADMIN: _RUN_RISK,
    Role.RISK_OFFICER: _RUN_RISK,
    Role.DESK_MANAGER: [
        "risk.view_creditaccount",
        "risk.view_exposureentry",
        "risk.view_assessment",
        "risk.view_exposurealert",
    ],
}

SET_CREDIT_LIMIT = "risk.set_credit_limit"
APPROVE_CREDIT_LIMIT = "risk.approve_credit_limit"
VIEW_CREDIT = "risk.view_creditaccount"


def _ensure_staff_with(actor: User, organization_id: UUID, partner_id: UUID, perm: str) -> None:
    if is_staff_of(actor, organization_id):
        if not actor.has_perm(perm):
            raise PermissionDenied(f"This needs the {perm} capability.")
        return
    if actor.user_type == UserType.EXTERNAL and partner_id_of(actor) == partner_id:
        raise PermissionDenied("Credit limits are set by the organization's back office; you may read yours.")
    raise PartnerNotFound()


def ensure_can_set_limit(actor: User, *, organization_id: UUID, partner_id: UUID) -> None:
    _ensure_staff_with(actor, organization_id, partner_id, SET_CREDIT_LIMIT)


def ensure_can_decide_limit(actor: User, *, organization_id: UUID, partner_id: UUID) -> None:
    _ensure_staff_with(actor, organization_id, partner_id, APPROVE_CREDIT_LIMIT)


def can_see_recommendations(user: User) -> bool:
    """Counterparty scores and recommended limits are for the back office's risk desk."""
    return user.user_type in (UserType.INTERNAL, UserType.SUPER_ADMIN) and user.has_perm(VIEW_CREDIT)

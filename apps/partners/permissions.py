"""Who may do what in the partners app.

Two kinds of rights (ARCHITECTURE section 7):
- staff capabilities are model permissions carried by their roles (accounts.roles), valid only
  inside their own organization;
- a partner's users hold django-guardian object permissions on their one partner, granted by
  membership role (PARTNER_OBJECT_PERMISSIONS) and replaced whenever the role changes.

Callers look the object up through a scoped selector first (outside scope: 404), then ask here
(inside scope but not allowed: 403).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm

from apps.accounts.models import User, UserType
from apps.accounts.roles import Role
from apps.core.errors import PermissionDenied
from apps.partners.errors import (
    ApplicationNotFound,
    MakerCheckerViolation,
    NotAnApplicant,
    PartnerBlocked,
    PartnerNotFound,
    PartnerSuspended,
)
from apps.partners.models import (
    ApprovalRoute,
    BusinessPartner,
    MembershipRole,
    OnboardingApplication,
    PartnerDocument,
    PartnerMembership,
    PartnerStatus,
)

# What each staff role may do with partners (accounts.roles registers it at ready()). Partner
# users get theirs per partner, through their membership (guardian), not through a role.
_VIEW_PARTNERS = [
    "partners.view_businesspartner",
    "partners.view_onboardingapplication",
    "partners.view_partnerdocument",
    "partners.view_branch",
    "partners.view_vehicle",
    "partners.view_partnermembership",
    "partners.view_partneramendment",
    "partners.view_corporategroup",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ORGANIZATION_ADMIN: [
        *_VIEW_PARTNERS,
        "partners.change_businesspartner",
        "partners.change_onboardingapplication",
        "partners.change_partnerdocument",
        "partners.add_corporategroup",
        "partners.change_corporategroup",
        "partners.approve_low_risk",
        "partners.approve_medium_risk",
        "partners.approve_high_risk",
        "partners.change_partner_status",
        "partners.override_capabilities",
        "partners.decide_amendment",
        "partners.renew_kyc",
        "partners.manage_employees",
    ],
    Role.KYC_OFFICER: [
        *_VIEW_PARTNERS,
        "partners.change_onboardingapplication",
        "partners.change_partnerdocument",
        "partners.renew_kyc",
    ],
    Role.DESK_MANAGER: [
        *_VIEW_PARTNERS,
        "partners.change_businesspartner",
        "partners.approve_low_risk",
        "partners.decide_amendment",
    ],
    Role.RISK_OFFICER: [*_VIEW_PARTNERS, "partners.change_partner_status", "partners.override_capabilities"],
}

VIEW_PARTNER = "partners.view_businesspartner"
CHANGE_PARTNER = "partners.change_businesspartner"
MANAGE_EMPLOYEES = "partners.manage_employees"
TRADE_FOR_PARTNER = "partners.trade_for_partner"

# Object permissions a member holds on its partner, by role.
PARTNER_OBJECT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    MembershipRole.OWNER: (VIEW_PARTNER, CHANGE_PARTNER, MANAGE_EMPLOYEES, TRADE_FOR_PARTNER),
    MembershipRole.TRADER: (VIEW_PARTNER, TRADE_FOR_PARTNER),
    MembershipRole.VIEWER: (VIEW_PARTNER,),
}
ALL_PARTNER_OBJECT_PERMISSIONS = (VIEW_PARTNER, CHANGE_PARTNER, MANAGE_EMPLOYEES, TRADE_FOR_PARTNER)
# The Django group (accounts.roles) that mirrors a membership role, so /me lists it.
PARTNER_ROLE_GROUP = {
    MembershipRole.OWNER: Role.PARTNER_OWNER,
    MembershipRole.TRADER: Role.PARTNER_TRADER,
    MembershipRole.VIEWER: Role.PARTNER_VIEWER,
}

APPROVE_PERMISSION_BY_ROUTE = {
    ApprovalRoute.DESK_MANAGER: "partners.approve_low_risk",
    ApprovalRoute.MANAGER: "partners.approve_medium_risk",
    ApprovalRoute.DIRECTOR: "partners.approve_high_risk",
}
REVIEW_PERMISSION = "partners.change_onboardingapplication"


def ensure_applicant(user: User) -> None:
    """An applicant is an active EXTERNAL user of an organization with no partner yet."""
    if (
        user.user_type != UserType.EXTERNAL
        or not user.is_active
        or user.organization_id is None
        or PartnerMembership.objects.filter(user_id=user.pk).exists()
    ):
        raise NotAnApplicant()


def _ensure_staff_of(actor: User, application: OnboardingApplication) -> None:
    if actor.user_type == UserType.SUPER_ADMIN:
        return
    if actor.user_type != UserType.INTERNAL or actor.organization_id != application.organization_id:
        raise ApplicationNotFound()


def ensure_can_review(actor: User, application: OnboardingApplication) -> None:
    """Staff of the application's organization with the review capability (as a role, or granted
    on this one application to an assigned KYC officer)."""
    _ensure_staff_of(actor, application)
    if not (actor.has_perm(REVIEW_PERMISSION) or actor.has_perm(REVIEW_PERMISSION, application)):
        raise PermissionDenied("Reviewing onboarding applications needs the KYC officer capability.")


def ensure_can_approve(actor: User, application: OnboardingApplication) -> None:
    """The route's capability, and maker-checker: whoever keyed the application, reviewed it or
    verified one of its documents may not approve it."""
    _ensure_staff_of(actor, application)
    needed = APPROVE_PERMISSION_BY_ROUTE.get(ApprovalRoute(application.route)) if application.route else None
    if needed is None or not actor.has_perm(needed):
        raise PermissionDenied(
            f"This application is routed to the {application.get_route_display().lower()} level; "
            f"approving it needs the {needed} capability."
        )
    verifiers = set(
        PartnerDocument.objects.filter(application_id=application.pk, verified_by__isnull=False).values_list(
            "verified_by_id", flat=True
        )
    )
    if actor.pk in {application.keyed_by_id, application.reviewed_by_id, *verifiers}:
        raise MakerCheckerViolation()


# --- partner users and staff on a partner ------------------------------------------------------


def grant_partner_role(user: User, partner: BusinessPartner, role: str) -> None:
    """Give a member exactly the object permissions (and the mirrored group) of its role.
    Call inside the transaction that writes the membership."""
    revoke_partner_rights(user, partner)
    for perm in PARTNER_OBJECT_PERMISSIONS[role]:
        assign_perm(perm, user, partner)
    user.groups.add(Group.objects.get(name=PARTNER_ROLE_GROUP[MembershipRole(role)]))


def revoke_partner_rights(user: User, partner: BusinessPartner) -> None:
    """Remove every object permission a user holds on a partner, and the partner role groups."""
    for perm in ALL_PARTNER_OBJECT_PERMISSIONS:
        remove_perm(perm, user, partner)
    user.groups.remove(*Group.objects.filter(name__in=PARTNER_ROLE_GROUP.values()))


def is_staff_of(actor: User, organization_id: object) -> bool:
    """Platform admins, or internal staff of that organization."""
    if actor.user_type == UserType.SUPER_ADMIN:
        return True
    return actor.user_type == UserType.INTERNAL and actor.organization_id == organization_id


def is_member_of(actor: User, partner: BusinessPartner) -> bool:
    return (
        actor.user_type == UserType.EXTERNAL
        and actor.organization_id == partner.organization_id
        and PartnerMembership.objects.filter(user_id=actor.pk, partner_id=partner.pk, is_active=True).exists()
    )


def ensure_partner_writable(partner: BusinessPartner) -> None:
    """A SUSPENDED or BLOCKED partner's users may read but not write (403 partner_suspended /
    partner_blocked). Staff actions on such a partner are not refused by this."""
    if partner.status == PartnerStatus.SUSPENDED:
        raise PartnerSuspended()
    if partner.status == PartnerStatus.BLOCKED:
        raise PartnerBlocked()


def ensure_partner_permission(
    actor: User, partner: BusinessPartner, *, partner_perm: str, staff_perm: str | None, write: bool = True
) -> None:
    """Staff of the partner's organization holding `staff_perm` (a model permission; None: staff
    may not do this), or a member holding `partner_perm` on this partner (a guardian object
    permission). A member's write on a partner that is not ACTIVE is refused. Anyone else: 404,
    as if the partner did not exist; in scope but without the right: 403."""
    if is_staff_of(actor, partner.organization_id):
        if staff_perm is None or not actor.has_perm(staff_perm):
            raise PermissionDenied(f"This needs the {staff_perm or partner_perm} capability.")
        return
    if not is_member_of(actor, partner):
        raise PartnerNotFound()
    if not actor.has_perm(partner_perm, partner):
        raise PermissionDenied(f"Your role at {partner.code} does not allow this ({partner_perm}).")
    if write:
        ensure_partner_writable(partner)


def ensure_staff_capability(actor: User, organization_id: object, perm: str) -> None:
    """A back-office action: staff of that organization with the capability. Outside the
    organization (or not staff): 404; without the capability: 403."""
    if not is_staff_of(actor, organization_id):
        raise PartnerNotFound()
    if not actor.has_perm(perm):
        raise PermissionDenied(f"This needs the {perm} capability.")

"""Who may do what in the partners app."""

from __future__ import annotations

from apps.accounts.models import User, UserType
from apps.core.errors import PermissionDenied
from apps.partners.errors import ApplicationNotFound, MakerCheckerViolation, NotAnApplicant
from apps.partners.models import ApprovalRoute, OnboardingApplication, PartnerDocument, PartnerMembership

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

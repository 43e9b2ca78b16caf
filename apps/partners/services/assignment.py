"""Assigning a KYC officer to an onboarding application (ARCHITECTURE section 7: "an assigned
KYC officer on an application" is a per-object grant).

Whoever may approve applications dispatches them: staff holding any of the approval capabilities
(partners.approve_low_risk: desk managers; organization admins hold all three). The officer is
any active INTERNAL user of the application's organization: the assignment grants them the
guardian object permission partners.change_onboardingapplication on that one application, which
`permissions.ensure_can_review` honours, so an officer without the KYC role may review exactly
the applications assigned to them. Re-assigning moves the grant; unassigning removes it.
Maker-checker is untouched: an assigned officer who verifies documents cannot approve.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, remove_perm

from apps.accounts.models import User, UserType
from apps.core.errors import PermissionDenied
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.errors import ApplicationNotAssignable, ApplicationNotFound
from apps.partners.models import ApplicationState, OnboardingApplication
from apps.partners.permissions import APPROVE_PERMISSION_BY_ROUTE, REVIEW_PERMISSION
from apps.partners.services.onboarding import lock_application

ASSIGN_PERMISSIONS = tuple(APPROVE_PERMISSION_BY_ROUTE.values())
ASSIGNABLE_STATES = (ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW, ApplicationState.INFO_REQUESTED)


def can_assign(actor: User, organization_id: object) -> bool:
    """Staff of the organization holding an approval capability (the admin shows the button)."""
    if actor.user_type == UserType.SUPER_ADMIN:
        return True
    return (
        actor.user_type == UserType.INTERNAL
        and actor.organization_id == organization_id
        and any(actor.has_perm(perm) for perm in ASSIGN_PERMISSIONS)
    )


def officers_for(organization_id: UUID) -> QuerySet[User]:
    """Who may be assigned: the organization's active internal staff, by name."""
    return User.objects.filter(organization_id=organization_id, user_type=UserType.INTERNAL, is_active=True).order_by(
        "full_name", "email", "pk"
    )


def _officer(officer_id: UUID, organization_id: object) -> User:
    officer = User.objects.filter(pk=officer_id).first()
    if (
        officer is None
        or officer.user_type != UserType.INTERNAL
        or not officer.is_active
        or officer.organization_id != organization_id
    ):
        raise FieldInvalid(
            "officer_id",
            "not_staff_of_organization",
            "The officer must be an active staff member of the application's organization.",
        )
    return officer


def application_assign(*, actor: User, application_id: UUID, officer_id: UUID | None) -> OnboardingApplication:
    """Assign (or with None, unassign) the application's KYC officer.

    Locks the application. Staff of other organizations do not find it (404); staff without an
    approval capability are refused (403); an application that is not SUBMITTED, UNDER_REVIEW or
    INFO_REQUESTED is refused (409 application_not_assignable); an officer who is not active
    internal staff of the organization is refused (400 validation_failed, attr officer_id).
    Grants partners.change_onboardingapplication on the application to the officer and removes it
    from the previous one. Assigning the officer already assigned changes nothing and emits
    nothing. Emits partners.application.assigned {assigned_to, previous_assigned_to}."""
    with transaction.atomic():
        application = lock_application(application_id)
        if actor.user_type != UserType.SUPER_ADMIN and (
            actor.user_type != UserType.INTERNAL or actor.organization_id != application.organization_id
        ):
            raise ApplicationNotFound()
        if not can_assign(actor, application.organization_id):
            raise PermissionDenied(
                "Assigning a KYC officer needs an approval capability (partners.approve_low_risk or higher)."
            )
        if application.state not in ASSIGNABLE_STATES:
            raise ApplicationNotAssignable(
                f"The application is {application.state}; only {', '.join(ASSIGNABLE_STATES)} applications "
                "can be assigned."
            )
        officer = _officer(officer_id, application.organization_id) if officer_id is not None else None
        previous_id = application.assigned_to_id
        if previous_id == officer_id:
            return application
        if previous_id is not None:
            previous = User.objects.get(pk=previous_id)
            remove_perm(REVIEW_PERMISSION, previous, application)
        if officer is not None:
            assign_perm(REVIEW_PERMISSION, officer, application)
        application.assigned_to = officer
        application.save(update_fields=["assigned_to", "updated_at"])
        emit(
            events.APPLICATION_ASSIGNED,
            aggregate=application,
            actor=actor,
            payload={
                "application_id": str(application.pk),
                "state": application.state,
                "assigned_to": str(officer.pk) if officer else None,
                "previous_assigned_to": str(previous_id) if previous_id else None,
            },
        )
    return application

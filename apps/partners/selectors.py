"""Reads of the partners app, scoped to the caller (ARCHITECTURE section 7): a lookup outside
the caller's scope answers 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.accounts.models import User, UserType
from apps.partners.errors import (
    AmendmentNotFound,
    ApplicationNotFound,
    BranchNotFound,
    DocumentNotFound,
    PartnerNotFound,
    VehicleNotFound,
)
from apps.partners.models import (
    Branch,
    BusinessPartner,
    OnboardingApplication,
    PartnerAmendment,
    PartnerDocument,
    PartnerMembership,
    Vehicle,
)
from apps.partners.permissions import VIEW_PARTNER, ensure_partner_permission


def membership_of(user: Any) -> PartnerMembership | None:
    if getattr(user, "user_type", None) != UserType.EXTERNAL or not getattr(user, "pk", None):
        return None
    return PartnerMembership.objects.select_related("partner").filter(user_id=user.pk, is_active=True).first()


def partner_id_of(user: Any) -> UUID | None:
    """The partner an external user acts for (resolver of events, webhooks and realtime)."""
    membership = membership_of(user)
    return membership.partner_id if membership is not None else None


def partner_summary_of(user: User) -> dict[str, Any] | None:
    """`{"id", "code", "name", "role"}` of an external user's partner (resolver of /api/v1/me)."""
    membership = membership_of(user)
    if membership is None:
        return None
    partner = membership.partner
    return {"id": str(partner.id), "code": partner.code, "name": partner.legal_name, "role": membership.role}


def branches_at_location_count(location_id: UUID) -> int:
    return Branch.objects.filter(location_id=location_id, is_active=True).count()


def applications_of_applicant(user: User) -> QuerySet[OnboardingApplication]:
    if user.organization_id is None:
        return OnboardingApplication.objects.none()
    return OnboardingApplication.objects.filter(applicant_id=user.pk, organization_id=user.organization_id)


def application_get_for_applicant(user: User, application_id: UUID) -> OnboardingApplication:
    application = applications_of_applicant(user).filter(pk=application_id).first()
    if application is None:
        raise ApplicationNotFound()
    return application


def applications_visible_to_staff(user: User) -> QuerySet[OnboardingApplication]:
    if user.user_type == UserType.SUPER_ADMIN:
        return OnboardingApplication.objects.all()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return OnboardingApplication.objects.filter(organization_id=user.organization_id)
    return OnboardingApplication.objects.none()


def partners_visible_to(user: User) -> QuerySet[BusinessPartner]:
    if user.user_type == UserType.SUPER_ADMIN:
        return BusinessPartner.objects.all()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return BusinessPartner.objects.filter(organization_id=user.organization_id)
    partner_id = partner_id_of(user)
    if partner_id is None or user.organization_id is None:
        return BusinessPartner.objects.none()
    return BusinessPartner.objects.filter(pk=partner_id, organization_id=user.organization_id)


def partner_get(user: User, partner_id: UUID) -> BusinessPartner:
    partner = partners_visible_to(user).filter(pk=partner_id).first()
    if partner is None:
        raise PartnerNotFound()
    return partner


# --- branches and vehicles ----------------------------------------------------------------------

VIEW_BRANCH = "partners.view_branch"
VIEW_VEHICLE = "partners.view_vehicle"


def partner_get_for_reading(user: User, partner_id: UUID, *, staff_perm: str) -> BusinessPartner:
    """The partner, for its members (view right; a suspended partner's users still read) and its
    organization's staff holding `staff_perm`. Outside scope 404, in scope without the right 403."""
    partner = partner_get(user, partner_id)
    ensure_partner_permission(user, partner, partner_perm=VIEW_PARTNER, staff_perm=staff_perm, write=False)
    return partner


def branches_of_partner(user: User, partner_id: UUID, *, is_active: bool | None = None) -> QuerySet[Branch]:
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_BRANCH)
    branches = Branch.objects.filter(partner_id=partner.pk)
    if is_active is not None:
        branches = branches.filter(is_active=is_active)
    return branches


def branch_get(user: User, partner_id: UUID, branch_id: UUID) -> Branch:
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_BRANCH)
    branch = Branch.objects.filter(partner_id=partner.pk, pk=branch_id).first()
    if branch is None:
        raise BranchNotFound()
    return branch


def vehicles_of_partner(user: User, partner_id: UUID, *, is_active: bool | None = None) -> QuerySet[Vehicle]:
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_VEHICLE)
    vehicles = Vehicle.objects.filter(partner_id=partner.pk)
    if is_active is not None:
        vehicles = vehicles.filter(is_active=is_active)
    return vehicles


def vehicle_get(user: User, partner_id: UUID, vehicle_id: UUID) -> Vehicle:
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_VEHICLE)
    vehicle = Vehicle.objects.filter(partner_id=partner.pk, pk=vehicle_id).first()
    if vehicle is None:
        raise VehicleNotFound()
    return vehicle


# --- employees (a partner's users) --------------------------------------------------------------

VIEW_MEMBERSHIP = "partners.view_partnermembership"


def employees_of_partner(user: User, partner_id: UUID) -> QuerySet[PartnerMembership]:
    """The partner's memberships (active or not) with their users and inviters, for its members
    and its organization's staff holding partners.view_partnermembership."""
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_MEMBERSHIP)
    return PartnerMembership.objects.filter(partner_id=partner.pk).select_related("user", "invited_by")


# --- partner documents --------------------------------------------------------------------------

VIEW_DOCUMENT = "partners.view_partnerdocument"


def documents_of_partner(
    user: User, partner_id: UUID, *, status: str | None = None, document_type: str | None = None
) -> QuerySet[PartnerDocument]:
    """The partner's documents (those of its onboarding application included), for its members
    and its organization's staff holding partners.view_partnerdocument."""
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_DOCUMENT)
    documents = PartnerDocument.objects.filter(partner_id=partner.pk)
    if status is not None:
        documents = documents.filter(status=status)
    if document_type is not None:
        documents = documents.filter(document_type=document_type)
    return documents


# --- amendments ---------------------------------------------------------------------------------

VIEW_AMENDMENT = "partners.view_partneramendment"


def amendments_of_partner(
    user: User, partner_id: UUID, *, status: str | None = None, kind: str | None = None
) -> QuerySet[PartnerAmendment]:
    """The partner's amendments with who requested and decided them, for its members and its
    organization's staff holding partners.view_partneramendment."""
    partner = partner_get_for_reading(user, partner_id, staff_perm=VIEW_AMENDMENT)
    amendments = PartnerAmendment.objects.filter(partner_id=partner.pk).select_related("requested_by", "decided_by")
    if status is not None:
        amendments = amendments.filter(status=status)
    if kind is not None:
        amendments = amendments.filter(kind=kind)
    return amendments


def amendment_get(user: User, partner_id: UUID, amendment_id: UUID) -> PartnerAmendment:
    amendment = amendments_of_partner(user, partner_id).filter(pk=amendment_id).first()
    if amendment is None:
        raise AmendmentNotFound()
    return amendment


def amendments_visible_to_staff(user: User) -> QuerySet[PartnerAmendment]:
    """The back-office queue: amendments of the staff member's organization's partners (every
    organization's for a platform admin)."""
    amendments = PartnerAmendment.objects.select_related("partner", "requested_by", "decided_by")
    if user.user_type == UserType.SUPER_ADMIN:
        return amendments
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return amendments.filter(partner__organization_id=user.organization_id)
    return PartnerAmendment.objects.none()


def document_for_staff(user: User, document_id: UUID) -> PartnerDocument | None:
    """A KYC document of an application or partner of the staff member's organization (platform
    admins: any), or None."""
    if user.user_type == UserType.SUPER_ADMIN:
        return PartnerDocument.objects.filter(pk=document_id).first()
    if user.user_type != UserType.INTERNAL or user.organization_id is None:
        return None
    return (
        PartnerDocument.objects.filter(pk=document_id)
        .filter(Q(application__organization_id=user.organization_id) | Q(partner__organization_id=user.organization_id))
        .first()
    )


def partner_document_file_get(user: User, partner_id: UUID, document_id: UUID) -> PartnerDocument:
    """A document of the partner whose file the caller may open: its members, and its
    organization's staff holding partners.view_partnerdocument (the same rule as every other
    partner read: outside scope 404, in scope without the right 403)."""
    partner = partner_get_for_reading(user, partner_id, staff_perm="partners.view_partnerdocument")
    document = PartnerDocument.objects.filter(pk=document_id, partner_id=partner.pk).first()
    if document is None:
        raise DocumentNotFound()
    return document

"""Reads of the partners app, scoped to the caller (ARCHITECTURE section 7): a lookup outside
the caller's scope answers 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from apps.accounts.models import User, UserType
from apps.partners.errors import ApplicationNotFound, PartnerNotFound
from apps.partners.models import Branch, BusinessPartner, OnboardingApplication, PartnerMembership


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

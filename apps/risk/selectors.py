"""Reads of risk. The first group is internal (other apps' services, which scoped their own
actor already): credit rows and party checks. The second is scoped to a user (API, admin):
staff see their organization's rows, partner users their own partner's, others nothing."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.partners.models import BusinessPartner
from apps.partners.selectors import partner_id_of
from apps.risk.models import Assessment, CreditAccount, ExposureAlert, ExposureEntry, FreeMailDomain, LimitChange
from apps.risk.parties import PARTY_FIELDS, PartyCheck, check_parties, party

__all__ = [
    "PartyCheck",
    "assessments_visible_to",
    "credit_accounts_visible_to",
    "credit_of",
    "exposure_entries_visible_to",
    "limit_changes_visible_to",
    "party_check",
    "party_check_many",
]


# --- internal ------------------------------------------------------------------------------------


def credit_of(*, partner_id: UUID) -> CreditAccount | None:
    """The partner's credit row (limit, stage totals, exposure, level; `.utilisation`): one
    query. None when the partner has none yet (nothing booked, no limit set through risk)."""
    return CreditAccount.objects.filter(partner_id=partner_id).first()


def _free_mail(domains: set[str]) -> set[str]:
    if not domains:
        return set()
    return set(FreeMailDomain.objects.filter(domain__in=domains).values_list("domain", flat=True))


def party_check_many(*, partner_id: UUID, other_ids: Iterable[UUID]) -> dict[UUID, PartyCheck]:
    """The party check of `partner_id` against each of `other_ids`, in two queries whatever
    their number (the partners' fields, then which of their e-mail domains are free-mail).
    Unknown ids are left out of the answer."""
    wanted = {UUID(str(other)) for other in other_ids}
    partner_uuid = UUID(str(partner_id))
    rows = BusinessPartner.objects.filter(pk__in=wanted | {partner_uuid}).values(*PARTY_FIELDS)
    parties = {row["id"]: party(row) for row in rows}
    subject = parties.get(partner_uuid)
    if subject is None:
        return {}
    free_mail = _free_mail({p.email_domain for p in parties.values() if p.email_domain})
    return {
        other_id: check_parties(subject, parties[other_id], free_mail=free_mail)
        for other_id in wanted
        if other_id in parties
    }


def party_check(*, partner_a_id: UUID, partner_b_id: UUID) -> PartyCheck:
    """The party check of two partners (two queries). An unknown partner links to nothing: PASS."""
    found = party_check_many(partner_id=partner_a_id, other_ids=[partner_b_id])
    return found.get(UUID(str(partner_b_id)), PartyCheck(result="PASS", factors=[]))


# --- scoped to a user ------------------------------------------------------------------------------


def _scope(user: User, *, partner_field: str = "partner_id") -> Q | None:
    """The rows `user` may see: all (platform admin), its organization's (staff), its partner's
    (partner users); None when nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.user_type == "SUPER_ADMIN":
        return Q()
    if user.user_type == "INTERNAL":
        return Q(organization_id=user.organization_id)
    partner_id = partner_id_of(user)
    if partner_id is None:
        return None
    return Q(organization_id=user.organization_id, **{partner_field: partner_id})


def credit_accounts_visible_to(user: User) -> QuerySet[CreditAccount]:
    scope = _scope(user)
    if scope is None:
        return CreditAccount.objects.none()
    return CreditAccount.objects.filter(scope).select_related("partner")


def exposure_entries_visible_to(user: User) -> QuerySet[ExposureEntry]:
    scope = _scope(user)
    if scope is None:
        return ExposureEntry.objects.none()
    return ExposureEntry.objects.filter(scope)


def assessments_visible_to(user: User) -> QuerySet[Assessment]:
    scope = _scope(user)
    if scope is None:
        return Assessment.objects.none()
    return Assessment.objects.filter(scope)


def limit_changes_visible_to(user: User) -> QuerySet[LimitChange]:
    scope = _scope(user)
    if scope is None:
        return LimitChange.objects.none()
    return LimitChange.objects.filter(scope)


def alerts_visible_to(user: User) -> QuerySet[ExposureAlert]:
    scope = _scope(user)
    if scope is None:
        return ExposureAlert.objects.none()
    return ExposureAlert.objects.filter(scope)

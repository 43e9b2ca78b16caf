"""Reads of the matching app, scoped to the caller: a proposal is visible to the users of its
buyer or its seller (by token, anonymised: api/matches.py) and to the staff of its organization;
anything else answers 404 (`match_not_found`)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from apps.accounts.models import User, UserType
from apps.matching.errors import MatchNotFound
from apps.matching.models import MatchProposal, ProposalStatus
from apps.partners.selectors import partner_id_of


def proposals_visible_to(user: User) -> QuerySet[MatchProposal]:
    """Every proposal (any status) the user may read: its partner's (as buyer or seller) for a
    partner user, its organization's for staff, all for a platform admin; none for anyone else
    (an applicant, an inactive user)."""
    if not user.is_active:
        return MatchProposal.objects.none()
    if user.user_type == UserType.SUPER_ADMIN:
        return MatchProposal.objects.all()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return MatchProposal.objects.filter(organization_id=user.organization_id)
    partner_id = partner_id_of(user)
    if partner_id is None or user.organization_id is None:
        return MatchProposal.objects.none()
    return MatchProposal.objects.filter(
        Q(buyer_id=partner_id) | Q(seller_id=partner_id), organization_id=user.organization_id
    )


def proposal_for_token(*, user: User, token: str) -> MatchProposal:
    """The proposal behind a match token, if the caller's partner is its buyer or seller or the
    caller is staff of its organization (or a platform admin); else MatchNotFound (404)."""
    if not isinstance(token, str) or not token or len(token) > 64:
        raise MatchNotFound()
    proposal = (
        proposals_visible_to(user)
        .select_related("requirement", "availability", "commodity", "buyer", "seller")
        .filter(token=token)
        .first()
    )
    if proposal is None:
        raise MatchNotFound()
    return proposal


def partner_proposals(*, user: User) -> QuerySet[MatchProposal]:
    """The caller's partner's ACTIVE proposals, both directions, best first (score, then id).
    Staff and platform admins: none here (the desk reads proposals in the admin)."""
    partner_id = partner_id_of(user) if user.user_type == UserType.EXTERNAL and user.is_active else None
    if partner_id is None or user.organization_id is None:
        return MatchProposal.objects.none()
    return MatchProposal.objects.filter(
        Q(buyer_id=partner_id) | Q(seller_id=partner_id),
        organization_id=user.organization_id,
        status=ProposalStatus.ACTIVE,
    )


def proposal_ids_of_posting(*, requirement_id: UUID | None = None, availability_id: UUID | None = None) -> set[UUID]:
    proposals = MatchProposal.objects.filter(status=ProposalStatus.ACTIVE)
    if requirement_id is not None:
        proposals = proposals.filter(requirement_id=requirement_id)
    if availability_id is not None:
        proposals = proposals.filter(availability_id=availability_id)
    return set(proposals.values_list("pk", flat=True))

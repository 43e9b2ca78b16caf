"""A match proposal looked up by its token, through matching's selector (the one place trades
calls matching)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from apps.matching.selectors import proposal_for_token


@dataclass(frozen=True)
class MatchFacts:
    match_id: UUID
    organization_id: Any
    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID
    active: bool


def match_for_token(*, user: Any, token: str) -> MatchFacts:
    """404 match_not_found for a token unknown or outside the caller's scope (another
    organization's, another partner's pair)."""
    proposal = proposal_for_token(user=user, token=token)
    return MatchFacts(
        match_id=proposal.pk,
        organization_id=proposal.organization_id,
        requirement_id=proposal.requirement_id,
        availability_id=proposal.availability_id,
        buyer_id=proposal.buyer_id,
        seller_id=proposal.seller_id,
        active=proposal.status == "ACTIVE",
    )

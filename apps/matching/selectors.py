"""Reads of the matching app, scoped to the caller: a proposal is visible to the users of its
buyer or its seller (by token, anonymised: api/matches.py) and to the staff of its organization;
anything else answers 404 (`match_not_found`)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
from django.db.models import Q, QuerySet

from apps.accounts.models import User, UserType
from apps.commodities.models import Commodity
from apps.matching.candidates import (
    MATCHABLE_REQUIREMENT_STATES,
    load_candidates,
    requirement_view,
    requirements_for_matching,
)
from apps.matching.engine import context_for, evaluate
from apps.matching.errors import MatchNotFound
from apps.matching.models import MatchProposal, ProposalStatus
from apps.partners.selectors import partner_id_of
from apps.tradedesk.market import rating_band
from apps.tradedesk.models import Availability, Requirement
from apps.tradedesk.selectors import requirement_get


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


TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def proposal_for_token(*, user: User, token: str) -> MatchProposal:
    """The proposal behind a match token, if the caller's partner is its buyer or seller or the
    caller is staff of its organization (or a platform admin); else MatchNotFound (404)."""
    # Tokens are secrets.token_urlsafe text: anything else is no token (and a NUL would reach
    # PostgreSQL as an error, not a miss).
    if not isinstance(token, str) or not TOKEN_TEXT.fullmatch(token):
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


def partner_proposals(*, user: User, partner_id: UUID | None = None) -> QuerySet[MatchProposal]:
    """The caller's partner's ACTIVE proposals, both directions (order them: best first is score,
    then id). Staff and platform admins: none here (the desk reads proposals in the admin).
    `partner_id`: the caller's partner when the caller already looked it up."""
    if user.user_type != UserType.EXTERNAL or not user.is_active:
        return MatchProposal.objects.none()
    partner_id = partner_id or partner_id_of(user)
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


# --- why nothing matched ---------------------------------------------------------------------------

NEAR_MISSES = 5


def requirement_match_report(*, user: User, requirement_id: UUID) -> dict[str, Any]:
    """Why a requirement matches what it matches: every ACTIVE offer of its commodity in its
    organization checked again (no SQL prefilter), the reasons that exclude offers with their
    counts, how many pass but score below the minimum, and the closest near misses (the best
    scored offers that fail exactly one filter, and which). Scoped like the requirement itself
    (tradedesk.selectors.requirement_get: its partner's users and its organization's staff;
    outside scope 404). Offers appear anonymously (region, rating band, quantity, prices, quality)."""
    requirement_get(user, requirement_id)
    requirement = requirements_for_matching(Requirement.objects.filter(pk=requirement_id)).get()
    commodity = (
        Commodity.objects.select_related("rate_unit").prefetch_related("parameters").get(pk=requirement.commodity_id)
    )
    ctx = context_for(requirement.organization_id, commodity)
    view = requirement_view(requirement, commodity)
    cands = load_candidates(view, commodity, quality_codes=ctx.quality_codes(view.spec), prefilter=False)
    evaluation = evaluate(view, cands, ctx)
    counts = sorted(
        ((int(mask.sum()), code) for code, mask in evaluation.failures.items()), key=lambda c: (-c[0], c[1])
    )
    reasons = [{"code": code, "count": count} for count, code in counts]
    failed_count = (
        np.sum(np.vstack(list(evaluation.failures.values())), axis=0)
        if evaluation.failures
        else np.zeros(len(cands), dtype=np.int64)
    )
    single = [int(i) for i in np.flatnonzero(failed_count == 1)]
    single.sort(key=lambda i: (-float(evaluation.score[i]), str(cands.ids[i])))
    chosen = single[:NEAR_MISSES]
    facts = {
        row["id"]: row
        for row in Availability.objects.filter(pk__in=[cands.ids[i] for i in chosen]).values(
            "id", "region", "partner__risk_category", "available_kg", "price_per_kg", "quality", "variety__code"
        )
    }
    near_misses = []
    for i in chosen:
        row = facts.get(cands.ids[i])
        if row is None:
            continue
        near_misses.append(
            {
                "failed": evaluation.failed_filters(i)[0],
                "score": round(float(evaluation.score[i]), 6),
                "region": row["region"],
                "rating_band": rating_band(row["partner__risk_category"]),
                "variety_code": row["variety__code"],
                "available_kg": row["available_kg"],
                "price_per_kg": row["price_per_kg"],
                "adjusted_price_per_kg": Decimal(repr(float(evaluation.adjusted_per_kg[i]))).quantize(
                    Decimal("0.0001")
                ),
                "quality": row["quality"],
            }
        )
    notes = []
    if requirement.status not in MATCHABLE_REQUIREMENT_STATES:
        notes.append(f"The requirement is {requirement.status}: only open requirements are matched.")
    if ctx.schedule is None:
        notes.append(f"{commodity.code} has no active premium/discount schedule: offers rank on the raw price.")
    if not ctx.enforce_radius:
        notes.append("The organization scores distance instead of enforcing the delivery radius.")
    return {
        "requirement_id": requirement.pk,
        "status": requirement.status,
        "evaluated": len(cands),
        "passed": int(evaluation.passed.sum()),
        "proposable": int(evaluation.proposable.sum()),
        "below_minimum_score": int((evaluation.passed & ~evaluation.proposable).sum()),
        "minimum_score": ctx.weights.min_score,
        "weights_version": ctx.weights.version,
        "schedule_version": ctx.schedule.version if ctx.schedule else None,
        "reasons": reasons,
        "near_misses": near_misses,
        "notes": notes,
    }

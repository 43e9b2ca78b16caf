"""Matching runs: a posting against the other side of the market, its proposals stored.

- `requirement_match(requirement_id=...)`: one requirement against every ACTIVE offer of its
  commodity in its organization (engine.evaluate over the candidate columns).
- `availability_match(availability_id=...)`: one offer against every open requirement.
- `partner_match(partner_id=...)`: every open posting of a partner (its status, KYC or risk
  changed).
- `requirements_match_bulk(requirement_ids=...)`: many requirements, the candidates of each
  (organization, commodity) loaded once (the sweep).

Each run is one transaction and safe to repeat or to run twice at once:

1. `pg_advisory_xact_lock` on the posting serialises runs of one posting; a later run reads
   after the earlier one committed.
2. The postings are read, scored, and the kept pairs' rows locked FOR SHARE in the trade desk's
   order (availabilities, then requirements), and their state checked again: a posting cancelled
   or sold meanwhile produces no proposal (its own event re-runs matching and withdraws).
3. Proposals are written with INSERT ... ON CONFLICT (requirement, availability) DO UPDATE, in
   (requirement, availability) order, so two runs touching the same pairs lock them in one order.
   A pair's row keeps its token and proposed_at for ever; its score, components and prices move.
4. Active proposals of the posting that no longer pass are WITHDRAWN with the reason.

Events (in the same transaction): `matching.match.proposed` for each side's top 5 new proposals
of the run (one event per side, `partner_id` that side), `matching.match.updated` when a stored
score changes, `matching.match.withdrawn` when a pair stops passing. Payloads never name the
counterparty (api.matches.side_payload: region, rating band, quantity, prices, quality, score).
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from apps.commodities.models import Commodity
from apps.commodities.schedules import price_adjustment
from apps.events.emit import emit
from apps.matching import events
from apps.matching.candidates import (
    MATCHABLE_REQUIREMENT_STATES,
    Candidates,
    RequirementView,
    for_buyer,
    load_candidates,
    load_offer,
    requirement_view,
    requirements_for_matching,
)
from apps.matching.engine import RISK_NAMES, Context, Evaluation, context_for, evaluate, ranked
from apps.matching.models import MatchProposal, ProposalStatus
from apps.matching.payloads import side_payload
from apps.matching.pricing import explanation_of
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement

TOP_NEW_PER_SIDE = 5
SCORE_PLACES = Decimal("0.000001")
PRICE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Scored:
    """One kept pair as the engine scored it."""

    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID
    score: float
    components: dict[str, float]
    warned: bool
    distance_km: float
    adjustment_per_kg: float
    adjusted_per_kg: float
    filters: list[str]


@dataclass
class RunResult:
    proposed: list[MatchProposal]
    updated: list[MatchProposal]
    withdrawn: list[MatchProposal]
    kept: list[MatchProposal]  # every ACTIVE proposal the run leaves for its posting, best first


def _advisory_lock(kind: str, posting_id: UUID) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"matching.{kind}:{posting_id}"])


def _scored(view: RequirementView, cands: Candidates, evaluation: Evaluation, index: int, ctx: Context) -> Scored:
    return Scored(
        requirement_id=view.id,
        availability_id=cands.ids[index],
        buyer_id=view.partner_id,
        seller_id=cands.partner_ids[index],
        score=float(evaluation.score[index]),
        components={
            "quality": float(evaluation.quality[index]),
            "price": float(evaluation.price[index]),
            "delivery": float(evaluation.delivery[index]),
            "risk": float(evaluation.risk[index]),
            "total": float(evaluation.score[index]),
        },
        warned=bool(evaluation.warned[index]),
        distance_km=float(evaluation.distance_km[index]),
        adjustment_per_kg=float(evaluation.adjustment_per_kg[index]),
        adjusted_per_kg=float(evaluation.adjusted_per_kg[index]),
        filters=evaluation.checked,
    )


def score_requirement(view: RequirementView, ctx: Context, cands: Candidates) -> list[Scored]:
    """The requirement's proposable pairs among `cands`, best first."""
    evaluation = evaluate(view, cands, ctx)
    return [_scored(view, cands, evaluation, i, ctx) for i in ranked(evaluation, cands.ids)]


def _commodity(commodity_id: UUID) -> Commodity:
    return Commodity.objects.select_related("rate_unit").prefetch_related("parameters").get(pk=commodity_id)


# --- the write ------------------------------------------------------------------------------------


def _explain(
    scored: Scored, offer: Any, view: RequirementView, ctx: Context, priced_cache: dict[str, Any]
) -> tuple[Decimal, dict[str, Any]]:
    """The exact adjusted price per kg and its explanation (commodities.schedules). Lots of the
    same quality on the same basis are priced once per run (`priced_cache`)."""
    raw: Decimal = offer["price_per_kg"]
    explanation: dict[str, Any] = {"raw_price_per_kg": str(raw), "rate_unit_factor": str(ctx.rate_factor)}
    adjustment = Decimal(0)
    if ctx.schedule is not None:
        key = json.dumps([offer["quality"], str(view.basis_per_rate_unit)], sort_keys=True, default=str)
        if key not in priced_cache:
            priced = price_adjustment(ctx.schedule.source, offer["quality"], view.basis_per_rate_unit)
            priced_cache[key] = (explanation_of(priced, rate_factor=ctx.rate_factor), priced.total_adjustment)
        explained, total = priced_cache[key]
        explanation["schedule"] = copy.deepcopy(explained)
        adjustment = total / ctx.rate_factor
    else:
        explanation["schedule"] = None
        explanation["note"] = f"{ctx.commodity.code} has no active premium/discount schedule: ranked on the raw price."
    freight = Decimal(0)
    if ctx.freight_per_kg_km is not None and scored.distance_km == scored.distance_km:  # not NaN
        distance = Decimal(repr(scored.distance_km)).quantize(Decimal("0.001"))
        freight = ctx.freight_per_kg_km * distance
        explanation["freight"] = {
            "per_kg_km": str(ctx.freight_per_kg_km),
            "distance_km": str(distance),
            "per_kg": str(freight.quantize(PRICE_PLACES)),
        }
    adjusted = (raw - adjustment + freight).quantize(PRICE_PLACES)
    explanation["adjusted_price_per_kg"] = str(adjusted)
    return adjusted, explanation


_UPDATED_ON_CONFLICT = (
    "updated_at", "status", "score", "components", "weights_version", "weights", "schedule_id",
    "schedule_version", "raw_price_per_kg", "adjusted_price_per_kg", "distance_km", "risk_result",
    "explanation", "filters_passed", "scored_at", "withdrawn_at", "withdrawn_reason",
)  # fmt: skip


def _upsert(rows: list[MatchProposal]) -> None:
    """INSERT ... ON CONFLICT (requirement, availability) DO UPDATE for the rows, in the order
    given. The row's id, token and (while it stays ACTIVE) proposed_at are the stored ones: they
    are read back into the instances (RETURNING), so a row another run inserted meanwhile keeps
    its token."""
    if not rows:
        return
    table = MatchProposal._meta.db_table
    fields = list(MatchProposal._meta.concrete_fields)
    columns = ", ".join(f.column for f in fields)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _UPDATED_ON_CONFLICT)
    proposed_at = (
        f"proposed_at = CASE WHEN {table}.status = 'WITHDRAWN' THEN EXCLUDED.proposed_at ELSE {table}.proposed_at END"
    )
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {placeholder} "  # noqa: S608 (model names)
        f"ON CONFLICT (requirement_id, availability_id) DO UPDATE SET {updates}, {proposed_at} "
        "RETURNING id, token, proposed_at"
    )
    params = [[f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields] for row in rows]
    # One short statement, many parameter rows: psycopg pipelines them (one round trip), and its
    # parsed form is cached, where one statement of 500 rows would be parsed afresh each time.
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.executemany(sql, params, returning=True)
        for row in rows:
            row.id, row.token, row.proposed_at = raw.fetchone()
            raw.nextset()


def _store(
    pairs: list[Scored],
    *,
    views: dict[UUID, RequirementView],
    ctx: Context,
    existing: dict[tuple[UUID, UUID], MatchProposal],
    offers: dict[UUID, dict[str, Any]],
    requirements: dict[UUID, dict[str, Any]],
) -> tuple[list[MatchProposal], list[MatchProposal], list[MatchProposal]]:
    """Upsert the kept pairs; (new or reactivated, score changed, all kept) proposals."""
    now = timezone.now()
    rows: list[MatchProposal] = []
    new: list[MatchProposal] = []
    changed: list[MatchProposal] = []
    weights = ctx.weights.as_json()
    priced_cache: dict[str, Any] = {}
    for pair in sorted(pairs, key=lambda p: (str(p.requirement_id), str(p.availability_id))):
        view = views[pair.requirement_id]
        offer = offers[pair.availability_id]
        adjusted, explanation = _explain(pair, offer, view, ctx, priced_cache)
        before = existing.get((pair.requirement_id, pair.availability_id))
        score = Decimal(repr(pair.score)).quantize(SCORE_PLACES)
        row = MatchProposal(
            organization_id=view.organization_id,
            requirement_id=pair.requirement_id,
            availability_id=pair.availability_id,
            buyer_id=pair.buyer_id,
            seller_id=pair.seller_id,
            commodity_id=view.commodity_id,
            status=ProposalStatus.ACTIVE,
            score=score,
            components=pair.components,
            weights_version=ctx.weights.version,
            weights=weights,
            schedule_id=ctx.schedule.schedule_id if ctx.schedule else None,
            schedule_version=ctx.schedule.version if ctx.schedule else None,
            raw_price_per_kg=offer["price_per_kg"],
            adjusted_price_per_kg=adjusted,
            distance_km=None
            if pair.distance_km != pair.distance_km
            else Decimal(repr(pair.distance_km)).quantize(Decimal("0.001")),
            risk_result=RISK_NAMES[1] if pair.warned else RISK_NAMES[0],
            explanation=explanation,
            filters_passed=pair.filters,
            proposed_at=now,
            scored_at=now,
            withdrawn_at=None,
            withdrawn_reason="",
        )
        row.created_at = row.updated_at = now
        if before is not None:
            row.id, row.token = before.id, before.token
            if before.status == ProposalStatus.ACTIVE:
                row.proposed_at = before.proposed_at
        rows.append(row)
        # For the events: the offer's and the requirement's public facts.
        row._offer = offer  # type: ignore[attr-defined]
        row._requirement = requirements[pair.requirement_id]  # type: ignore[attr-defined]
        if before is None or before.status != ProposalStatus.ACTIVE:
            new.append(row)
        elif before.score != score:
            changed.append(row)
    _upsert(rows)
    return new, changed, rows


def _emit_side(event_type: str, proposal: MatchProposal, side: str) -> None:
    partner_id = proposal.buyer_id if side == "buyer" else proposal.seller_id
    emit(
        event_type,
        aggregate_type="matching.matchproposal",
        aggregate_id=proposal.pk,
        organization_id=proposal.organization_id,
        partner_id=partner_id,
        payload=side_payload(proposal, side, offer=proposal._offer, requirement=proposal._requirement),  # type: ignore[attr-defined]
    )


def _emit_run(new: list[MatchProposal], changed: list[MatchProposal]) -> None:
    """Each side's top 5 new proposals of the run: matching.match.proposed; score changes:
    matching.match.updated to both sides."""
    best_first = sorted(new, key=lambda p: (-p.score, str(p.pk)))
    for side, key in (("buyer", "buyer_id"), ("seller", "seller_id")):
        sent: dict[UUID, int] = defaultdict(int)
        for proposal in best_first:
            partner = getattr(proposal, key)
            if sent[partner] < TOP_NEW_PER_SIDE:
                sent[partner] += 1
                _emit_side(events.MATCH_PROPOSED, proposal, side)
    for proposal in changed:
        _emit_side(events.MATCH_UPDATED, proposal, "buyer")
        _emit_side(events.MATCH_UPDATED, proposal, "seller")


def _withdraw(proposals: Iterable[MatchProposal], reasons: dict[UUID, str]) -> list[MatchProposal]:
    """WITHDRAW the given ACTIVE proposals (locked by the caller), each with its reason."""
    now = timezone.now()
    withdrawn = []
    for proposal in proposals:
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.withdrawn_at = now
        proposal.withdrawn_reason = reasons.get(proposal.pk, "no_longer_matches")[:80]
        withdrawn.append(proposal)
    if withdrawn:
        MatchProposal.objects.bulk_update(withdrawn, ["status", "withdrawn_at", "withdrawn_reason", "updated_at"])
        for proposal in withdrawn:
            payload = {
                "token": proposal.token,
                "reason": proposal.withdrawn_reason,
                "score": str(proposal.score),
            }
            for side, partner_id in (("buyer", proposal.buyer_id), ("seller", proposal.seller_id)):
                emit(
                    events.MATCH_WITHDRAWN,
                    aggregate_type="matching.matchproposal",
                    aggregate_id=proposal.pk,
                    organization_id=proposal.organization_id,
                    partner_id=partner_id,
                    payload={**payload, "side": side},
                )
    return withdrawn


_OFFER_FIELDS = (
    "id",
    "status",
    "available_kg",
    "price_per_kg",
    "quality",
    "region",
    "state_code",
    "partner__risk_category",
)
_REQUIREMENT_FIELDS = ("id", "status", "region", "state_code", "partner__risk_category", "max_kg", "min_kg")


def _lock_offers(ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    """The offers' rows FOR SHARE (sorted: one lock order), only those still ACTIVE with
    something available."""
    wanted = sorted(set(ids), key=str)
    if not wanted:
        return {}
    list(Availability.objects.filter(pk__in=wanted).order_by("pk").select_for_update(of=("self",)).values_list("pk"))
    rows = Availability.objects.filter(pk__in=wanted, status=AvailabilityStatus.ACTIVE, available_kg__gt=0)
    return {row["id"]: row for row in rows.values(*_OFFER_FIELDS)}


def _lock_requirements(ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    wanted = sorted(set(ids), key=str)
    if not wanted:
        return {}
    list(Requirement.objects.filter(pk__in=wanted).order_by("pk").select_for_update(of=("self",)).values_list("pk"))
    rows = Requirement.objects.filter(pk__in=wanted, status__in=MATCHABLE_REQUIREMENT_STATES)
    return {row["id"]: row for row in rows.values(*_REQUIREMENT_FIELDS)}


def _proposals_of(**filters: Any) -> dict[tuple[UUID, UUID], MatchProposal]:
    proposals = MatchProposal.objects.filter(**filters).order_by("requirement_id", "availability_id")
    return {(p.requirement_id, p.availability_id): p for p in proposals.select_for_update()}


# --- the runs -------------------------------------------------------------------------------------


def requirement_match(
    *, requirement_id: UUID, ctx: Context | None = None, cands: Candidates | None = None
) -> RunResult:
    """Match one requirement against every ACTIVE offer of its commodity in its organization.

    Locks (advisory) the requirement's run, then the kept offers FOR SHARE and the requirement
    FOR SHARE. A requirement no longer open (or deleted) has its proposals withdrawn and gets
    none. Emits matching.match.proposed / updated / withdrawn."""
    with transaction.atomic():
        _advisory_lock("requirement", requirement_id)
        requirement = requirements_for_matching(Requirement.objects.filter(pk=requirement_id)).first()
        existing = _proposals_of(requirement_id=requirement_id)
        if requirement is None or requirement.status not in MATCHABLE_REQUIREMENT_STATES:
            reason = "requirement_gone" if requirement is None else f"requirement_{requirement.status.lower()}"
            active = [p for p in existing.values() if p.status == ProposalStatus.ACTIVE]
            return RunResult([], [], _withdraw(active, {p.pk: reason for p in active}), [])
        commodity = _commodity(requirement.commodity_id)
        ctx = ctx or context_for(requirement.organization_id, commodity)
        view = requirement_view(requirement, commodity)
        if cands is None:
            cands = load_candidates(view, commodity, quality_codes=ctx.quality_codes(view.spec))
        evaluation = evaluate(view, cands, ctx)
        pairs = [_scored(view, cands, evaluation, i, ctx) for i in ranked(evaluation, cands.ids)]
        offers = _lock_offers(p.availability_id for p in pairs)
        requirements = _lock_requirements([requirement_id])
        if requirement_id not in requirements:
            pairs = []
        pairs = [p for p in pairs if p.availability_id in offers]
        new, changed, kept = _store(
            pairs, views={view.id: view}, ctx=ctx, existing=existing, offers=offers, requirements=requirements
        )
        kept_pairs = {(p.requirement_id, p.availability_id) for p in pairs}
        stale = [p for key, p in existing.items() if p.status == ProposalStatus.ACTIVE and key not in kept_pairs]
        reasons = _stale_reasons(stale, view, commodity, ctx, cands, evaluation)
        withdrawn = _withdraw(stale, reasons)
        _emit_run(new, changed)
    return RunResult(new, changed, withdrawn, sorted(kept, key=lambda p: (-p.score, str(p.availability_id))))


def _stale_reasons(
    stale: list[MatchProposal],
    view: RequirementView,
    commodity: Commodity,
    ctx: Context,
    cands: Candidates,
    evaluation: Evaluation,
) -> dict[UUID, str]:
    """Why each of a requirement's proposals no longer passes: the offer's state when it left
    the market, else the first filter it fails now (offers the SQL prefilter dropped are
    evaluated again without it)."""
    if not stale:
        return {}
    index = {cid: i for i, cid in enumerate(cands.ids)}
    missing = [p.availability_id for p in stale if p.availability_id not in index]
    states = dict(Availability.objects.filter(pk__in=missing).values_list("pk", "status"))
    recheck = [pk for pk in missing if states.get(pk) == AvailabilityStatus.ACTIVE]
    again_evaluation, again_index = None, {}
    if recheck:
        codes = ctx.quality_codes(view.spec)
        again = load_candidates(view, commodity, quality_codes=codes, prefilter=False, only_ids=recheck)
        again_evaluation = evaluate(view, again, ctx)
        again_index = {cid: i for i, cid in enumerate(again.ids)}
    reasons = {}
    for proposal in stale:
        pk = proposal.availability_id
        if pk in index:
            reasons[proposal.pk] = _reason(evaluation, index[pk])
        elif again_evaluation is not None and pk in again_index:
            reasons[proposal.pk] = _reason(again_evaluation, again_index[pk])
        elif pk in states and states[pk] != AvailabilityStatus.ACTIVE:
            reasons[proposal.pk] = f"availability_{states[pk].lower()}"
        else:
            reasons[proposal.pk] = "nothing_available" if pk in states else "availability_gone"
    return reasons


def _reason(evaluation: Evaluation, index: int | None) -> str:
    if index is None:
        return "no_longer_matches"
    failed = evaluation.failed_filters(index)
    if failed:
        return failed[0]
    return "below_minimum_score"


def availability_match(*, availability_id: UUID) -> RunResult:
    """Match one offer against every open requirement of its commodity in its organization.

    Locks (advisory) the offer's run, then the offer FOR SHARE and the kept requirements FOR
    SHARE (the trade desk's order). An offer no longer ACTIVE with something available has its
    proposals withdrawn. Emits like requirement_match."""
    with transaction.atomic():
        _advisory_lock("availability", availability_id)
        availability = Availability.objects.filter(pk=availability_id).first()
        existing = _proposals_of(availability_id=availability_id)
        active = [p for p in existing.values() if p.status == ProposalStatus.ACTIVE]
        if availability is None or availability.status != AvailabilityStatus.ACTIVE or availability.available_kg <= 0:
            reason = "availability_gone" if availability is None else f"availability_{availability.status.lower()}"
            if availability is not None and availability.status == AvailabilityStatus.ACTIVE:
                reason = "nothing_available"
            return RunResult([], [], _withdraw(active, {p.pk: reason for p in active}), [])
        commodity = _commodity(availability.commodity_id)
        ctx = context_for(availability.organization_id, commodity)
        requirements = requirements_for_matching(
            Requirement.objects.filter(
                organization_id=availability.organization_id,
                commodity_id=availability.commodity_id,
                status__in=MATCHABLE_REQUIREMENT_STATES,
            ).order_by("id")
        )
        views = {r.pk: requirement_view(r, commodity) for r in requirements}
        codes: set[str] = set()
        for view in views.values():
            codes |= ctx.quality_codes(view.spec)
        offer = load_offer(availability_id, commodity, quality_codes=codes)
        invited = frozenset(availability.invited_partners.values_list("pk", flat=True))
        pairs: list[Scored] = []
        evaluations: dict[UUID, Evaluation] = {}
        for view in views.values():
            one = for_buyer(offer, invited, view.partner_id)
            evaluation = evaluate(view, one, ctx)
            evaluations[view.id] = evaluation
            if evaluation.proposable[0]:
                pairs.append(_scored(view, one, evaluation, 0, ctx))
        offers = _lock_offers([availability_id])
        locked = _lock_requirements(p.requirement_id for p in pairs)
        pairs = [p for p in pairs if p.requirement_id in locked and availability_id in offers]
        new, changed, kept = _store(pairs, views=views, ctx=ctx, existing=existing, offers=offers, requirements=locked)
        kept_pairs = {(p.requirement_id, p.availability_id) for p in pairs}
        stale = [p for key, p in existing.items() if p.status == ProposalStatus.ACTIVE and key not in kept_pairs]
        reasons = {
            p.pk: _reason(evaluations[p.requirement_id], 0) if p.requirement_id in evaluations else "no_longer_matches"
            for p in stale
        }
        withdrawn = _withdraw(stale, reasons)
        _emit_run(new, changed)
    return RunResult(new, changed, withdrawn, sorted(kept, key=lambda p: (-p.score, str(p.requirement_id))))


def partner_match(*, partner_id: UUID) -> int:
    """Re-match every open posting of a partner (status, KYC, capability or risk changed), and
    the postings its active proposals pair it with. Returns how many postings ran."""
    requirement_ids = list(
        Requirement.objects.filter(partner_id=partner_id, status__in=MATCHABLE_REQUIREMENT_STATES).values_list(
            "pk", flat=True
        )
    )
    availability_ids = list(
        Availability.objects.filter(partner_id=partner_id, status=AvailabilityStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    # The other side of its active proposals: re-matched from their side too (withdraws them if
    # the partner no longer passes, e.g. suspended).
    paired = MatchProposal.objects.filter(status=ProposalStatus.ACTIVE)
    requirement_ids += list(paired.filter(seller_id=partner_id).values_list("requirement_id", flat=True))
    for requirement_id in sorted(set(requirement_ids), key=str):
        requirement_match(requirement_id=requirement_id)
    for availability_id in sorted(set(availability_ids), key=str):
        availability_match(availability_id=availability_id)
    return len(set(requirement_ids)) + len(set(availability_ids))


def requirements_match_bulk(*, requirement_ids: Iterable[UUID]) -> int:
    """Match many requirements; the candidates of each (organization, commodity) are loaded once
    (without the SQL prefilter, as one requirement's filters are not another's). Returns the
    number of pairs scored."""
    requirements = list(Requirement.objects.filter(pk__in=list(requirement_ids)).order_by("id"))
    groups: dict[tuple[UUID, UUID], list[Requirement]] = defaultdict(list)
    for requirement in requirements:
        groups[(requirement.organization_id, requirement.commodity_id)].append(requirement)
    scored = 0
    for (organization_id, commodity_id), members in groups.items():
        commodity = _commodity(commodity_id)
        ctx = context_for(organization_id, commodity)
        codes: set[str] = set()
        for requirement in members:
            codes |= ctx.quality_codes(requirement.spec or {})
        shared: Candidates | None = None
        for requirement in members:
            if requirement.status not in MATCHABLE_REQUIREMENT_STATES:
                requirement_match(requirement_id=requirement.pk, ctx=ctx)
                continue
            if shared is None:
                view = requirement_view(
                    requirements_for_matching(Requirement.objects.filter(pk=requirement.pk)).get(), commodity
                )
                shared = load_candidates(view, commodity, quality_codes=codes, prefilter=False)
            # `invited` of the shared columns is the first requirement's buyer's: answer it again.
            cands = _invited_for(shared, requirement.partner_id)
            requirement_match(requirement_id=requirement.pk, ctx=ctx, cands=cands)
            scored += len(cands)
    return scored


def _invited_for(cands: Candidates, buyer_id: UUID) -> Candidates:
    import dataclasses

    import numpy as np

    if not cands.ids or not cands.visibility.any():
        return dataclasses.replace(cands, invited=np.zeros(len(cands), dtype=bool))
    through = Availability.invited_partners.through
    restricted = [cands.ids[i] for i in np.flatnonzero(cands.visibility == 1)]
    invited = set(
        through.objects.filter(availability_id__in=restricted, businesspartner_id=buyer_id).values_list(
            "availability_id", flat=True
        )
    )
    return dataclasses.replace(cands, invited=np.array([i in invited for i in cands.ids], dtype=bool))

"""Matching runs: a posting against the other side of the market, its proposals stored.

- `requirement_match(requirement_id=...)`: one requirement against every ACTIVE offer of its
  commodity in its organization (engine.evaluate over the candidate columns).
- `availability_match(availability_id=...)`: one offer against every open requirement.
- `partner_match(partner_id=...)`: every open posting of a partner (its status, KYC or risk
  changed).
- `requirements_match_bulk(requirement_ids=...)`: many requirements, the candidates of each
  (organization, commodity) loaded once (the sweep).

Each run is one transaction and safe to repeat or to run twice at once:

1. The matching runs' lock, then the posting's run lock (locks.py: its docstring has the lock
   order and why); a later run of a posting reads after the earlier one committed.
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

import contextvars
import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

import numpy as np
from django.db import connection, connections, models, transaction
from django.db.models import Count, JSONField
from django.db.models.base import ModelState
from django.utils import timezone

from apps.commodities.models import Commodity
from apps.commodities.quality import parse_number
from apps.commodities.schedules import price_adjustment
from apps.core.collector import old_objects_frozen
from apps.core.sql import server_bound_cursor
from apps.events.emit import PendingEvent, emit_many
from apps.matching import events
from apps.matching.candidates import (
    MATCHABLE_REQUIREMENT_STATES,
    Candidates,
    RequirementView,
    for_buyer,
    load_candidates,
    load_offer,
    requirement_view,
    requirement_views,
    requirements_for_matching,
)
from apps.matching.engine import RISK_NAMES, Context, Evaluation, evaluate, matching_context, ranked
from apps.matching.locks import lock_posting_run, lock_posting_runs, try_lock_posting_run
from apps.matching.models import (
    DEFAULT_PROPOSALS_PER_REQUIREMENT,
    MatchingSettings,
    MatchProposal,
    ProposalStatus,
    new_token,
)
from apps.matching.payloads import side_payload
from apps.matching.pricing import explanation_of
from apps.partners.models import BusinessPartner
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement, RequirementDeliveryLocation

TOP_NEW_PER_SIDE = 5
# How many offers beyond its top N a requirement's run scores exactly and locks: one found gone
# under lock leaves its place to the next.
LOCK_MARGIN = 5
SWEEP_BLOCK = 50  # requirements per transaction of requirements_match_bulk
# The sweep writes its blocks in a thread of its own while it scores the next (_BlockWriter).
SWEEP_WRITER = True
OUTRANKED = "outranked"  # the withdrawal reason of a pair that passes but fell out of the top N
SCORE_PLACES = Decimal("0.000001")
KM_PLACES = Decimal("0.001")
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


# --- the write ------------------------------------------------------------------------------------


def _explain(
    offer: dict[str, Any],
    view: RequirementView,
    ctx: Context,
    distance: Decimal | None,
    reported: dict[UUID, str],
) -> tuple[Decimal, dict[str, Any]]:
    """The exact adjusted price per kg and its explanation (commodities.schedules). Lots of the
    same quality on the same basis are priced once per context (`ctx.priced`: the schedule
    version and rate unit are the context's, so the answer holds while it does); `reported`
    keeps each offer's schedule values for the run (an offer kept by many requirements of a
    sweep block is read once)."""
    raw: Decimal = offer["price_per_kg"]
    explanation: dict[str, Any] = {"raw_price_per_kg": str(raw), "rate_unit_factor": str(ctx.rate_factor)}
    adjustment = Decimal(0)
    if ctx.schedule is not None:
        values = reported.get(offer["id"])
        if values is None:
            values = reported[offer["id"]] = _reported(offer["quality"], ctx)
        key = f"{view.basis_per_rate_unit}|{values}"
        # One read of the shared memo (another thread's run may clear it between two).
        entry = ctx.priced.get(key)
        if entry is None:
            priced = price_adjustment(ctx.schedule.source, offer["quality"], view.basis_per_rate_unit)
            entry = (explanation_of(priced, rate_factor=ctx.rate_factor), priced.total_adjustment)
            ctx.priced[key] = entry
        explained, total = entry
        # Shared by the proposals of lots priced alike: nothing mutates a stored explanation
        # (it is serialised as it is), and a deep copy per row cost more than the pricing.
        explanation["schedule"] = explained
        adjustment = total / ctx.rate_factor
    else:
        explanation["schedule"] = None
        explanation["note"] = f"{ctx.commodity.code} has no active premium/discount schedule: ranked on the raw price."
    freight = Decimal(0)
    if ctx.freight_per_kg_km is not None and distance is not None:
        freight = ctx.freight_per_kg_km * distance
        explanation["freight"] = {
            "per_kg_km": str(ctx.freight_per_kg_km),
            "distance_km": str(distance),
            "per_kg": str(freight.quantize(PRICE_PLACES)),
        }
    adjusted = (raw - adjustment + freight).quantize(PRICE_PLACES)
    explanation["adjusted_price_per_kg"] = str(adjusted)
    return adjusted, explanation


def _reported(quality: dict[str, Any], ctx: Context) -> str:
    """What `price_adjustment` depends on besides the basis: the values of the schedule's
    parameters at their reporting precision (so 29.04 and 29.0 mm, both 29.0 as reported, price
    once)."""
    assert ctx.schedule is not None
    reported = []
    for code, (decimals, _) in sorted(ctx.schedule.parameters.items()):
        raw = quality.get(code)
        value = parse_number(str(raw)) if raw is not None else None
        if value is not None:
            value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        reported.append(f"{code}={value}")
    return "|".join(reported)


_UPDATED_ON_CONFLICT = (
    "updated_at", "status", "score", "components", "weights_version", "weights", "schedule_id",
    "schedule_version", "raw_price_per_kg", "adjusted_price_per_kg", "distance_km", "risk_result",
    "explanation", "filters_passed", "scored_at", "withdrawn_at", "withdrawn_reason",
)  # fmt: skip


# The JSON columns whose values many rows share (the weights of the run, the filters of a
# context, the schedule's line-by-line explanation of lots priced alike): each distinct value is
# sent once and every row names it by its place (`_upsert`).
_SHARED_COLUMNS = ("weights", "filters_passed")


def _upsert_sql() -> str:
    """The upsert statement. Parameters: the rows as a JSON array of objects keyed by column,
    read as MatchProposal's row type (json_populate_recordset: each value through its column's
    input function); the distinct shared JSON values as one array; and, per row, the place in it
    of its weights, its filters and its explanation's schedule (the explanation's own keys come
    with the row). jsonb keeps no key order, so `row || {"schedule": ...}` is the object the
    whole explanation was."""
    table = MatchProposal._meta.db_table
    names = [f.column for f in MatchProposal._meta.concrete_fields]
    columns = ", ".join(names)
    values = {name: f"u.{name}" for name in names}
    values["weights"] = "shared.doc -> (r.weights - 1)"
    values["filters_passed"] = "shared.doc -> (r.filters - 1)"
    values["explanation"] = (
        "u.explanation || jsonb_build_object('schedule', CASE WHEN r.schedule = 0 THEN 'null'::jsonb "
        "ELSE shared.doc -> (r.schedule - 1) END)"
    )
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _UPDATED_ON_CONFLICT)
    proposed_at = (
        f"proposed_at = CASE WHEN {table}.status = 'WITHDRAWN' THEN EXCLUDED.proposed_at ELSE {table}.proposed_at END"
    )
    return (
        "WITH shared AS MATERIALIZED (SELECT %s::jsonb AS doc) "  # noqa: S608 (model names)
        f"INSERT INTO {table} ({columns}) "
        f"SELECT {', '.join(values[name] for name in names)} "
        f"FROM json_populate_recordset(NULL::{table}, %s::json) WITH ORDINALITY AS u "
        "JOIN unnest(%s::int[], %s::int[], %s::int[]) WITH ORDINALITY AS r(weights, filters, schedule, n) "
        "ON r.n = u.ordinality CROSS JOIN shared "
        "ORDER BY u.ordinality "
        f"ON CONFLICT (requirement_id, availability_id) DO UPDATE SET {updates}, {proposed_at} "
        "RETURNING requirement_id, availability_id, id, token, proposed_at"
    )


def _json_value(field: Any) -> Any:
    """How the upsert's JSON document carries a value of `field`: ids, decimals and times as
    their text (each column's input function reads it back exactly), JSON as it is (as the
    JSONField writes it: json.dumps, no encoder), the rest (text, integers) as they are."""
    if isinstance(field, JSONField):
        return None
    if isinstance(field, models.DateTimeField):
        return datetime.isoformat
    if isinstance(field, (models.UUIDField, models.DecimalField, models.ForeignKey)):
        return str
    return None


def _upsert(rows: list[MatchProposal]) -> None:
    """INSERT ... ON CONFLICT (requirement, availability) DO UPDATE for the rows, in the order
    given, as one statement. The row's id, token and (while it stays ACTIVE) proposed_at are the
    stored ones: they are read back into the instances (RETURNING), so a row another run
    inserted meanwhile keeps its token."""
    if not rows:
        return
    # The instances hold every value already (_rows sets the times): one JSON document of them,
    # written by one json.dumps (C) and read by the database, rather than each field's pre_save
    # and get_db_prep_save per row, or one array per column that psycopg dumps element by
    # element in Python. Bound on the server (Django's client-side cursor would quote the
    # document into the statement in Python). The shared JSON values go once each (a sweep
    # block's 1,000 rows carried the same weights, filters and schedule explanations 1,000
    # times, and turning them into jsonb row by row was most of the statement's time).
    fields = [
        (f.column, f.attname, _json_value(f))
        for f in MatchProposal._meta.concrete_fields
        if f.attname not in _SHARED_COLUMNS
    ]
    shared: list[Any] = []
    places: dict[int, int] = {}  # id() of a shared object -> its place, from 1

    def place(value: Any) -> int:
        # By identity: the run's rows hold the same objects (the context's weights and filters,
        # the priced lots' explanations), and equal ones sent twice are only a little longer.
        key = id(value)
        if key not in places:
            shared.append(value)
            places[key] = len(shared)
        return places[key]

    document = []
    weights, filters, schedules = [], [], []
    for row in rows:
        values = vars(row)  # the attributes themselves (no descriptor per field)
        item = {}
        for column, attname, convert in fields:
            value = values[attname]
            item[column] = value if convert is None or value is None else convert(value)
        explanation = dict(item["explanation"])
        schedule = explanation.pop("schedule", None)
        item["explanation"] = explanation
        document.append(item)
        weights.append(place(values["weights"]))
        filters.append(place(values["filters_passed"]))
        schedules.append(0 if schedule is None else place(schedule))
    with server_bound_cursor() as cursor:
        cursor.execute(_upsert_sql(), [json.dumps(shared), json.dumps(document), weights, filters, schedules])
        stored = {(r, a): rest for r, a, *rest in cursor.fetchall()}
    for row in rows:
        row.id, row.token, row.proposed_at = stored[(row.requirement_id, row.availability_id)]
        row._state.adding = False


def _proposal(values: dict[str, Any]) -> MatchProposal:
    """A new (unsaved) MatchProposal holding `values`, one per concrete field (by attname):
    what `MatchProposal(**values)` builds, without the constructor's per-field work (defaults,
    descriptors, init signals; MatchProposal has no init receivers and these values are ids and
    plain values, no related objects). A sweep builds tens of thousands of rows, and the keyword
    constructor cost more than their upsert."""
    proposal = MatchProposal.__new__(MatchProposal)
    proposal.__dict__.update(values)
    proposal._state = ModelState()
    return proposal


def _rows(
    pairs: list[Scored],
    *,
    views: dict[UUID, RequirementView],
    ctx: Context,
    existing: dict[tuple[UUID, UUID], MatchProposal],
    offers: dict[UUID, dict[str, Any]],
    requirements: dict[UUID, dict[str, Any]],
    reported: dict[UUID, str] | None = None,
) -> tuple[list[MatchProposal], list[MatchProposal], list[MatchProposal]]:
    """The rows of the kept pairs, to upsert (exact prices and explanations for these only):
    (new or reactivated, score changed, all kept) proposals. `reported`: the run's memo of each
    offer's schedule values (`_explain`)."""
    now = timezone.now()
    rows: list[MatchProposal] = []
    new: list[MatchProposal] = []
    changed: list[MatchProposal] = []
    weights = ctx.weights.as_json()
    schedule_id = ctx.schedule.schedule_id if ctx.schedule else None
    schedule_version = ctx.schedule.version if ctx.schedule else None
    if reported is None:
        reported = {}
    for pair in sorted(pairs, key=lambda p: (str(p.requirement_id), str(p.availability_id))):
        view = views[pair.requirement_id]
        offer = offers[pair.availability_id]
        distance = None if pair.distance_km != pair.distance_km else Decimal(repr(pair.distance_km)).quantize(KM_PLACES)
        adjusted, explanation = _explain(offer, view, ctx, distance, reported)
        before = existing.get((pair.requirement_id, pair.availability_id))
        score = Decimal(repr(pair.score)).quantize(SCORE_PLACES)
        if before is None:
            pk, token, proposed_at = uuid4(), new_token(), now
        else:
            pk, token = before.id, before.token
            proposed_at = before.proposed_at if before.status == ProposalStatus.ACTIVE else now
        row = _proposal(
            {
                "id": pk,
                "created_at": now,
                "updated_at": now,
                "organization_id": view.organization_id,
                "requirement_id": pair.requirement_id,
                "availability_id": pair.availability_id,
                "buyer_id": pair.buyer_id,
                "seller_id": pair.seller_id,
                "commodity_id": view.commodity_id,
                "token": token,
                "status": ProposalStatus.ACTIVE,
                "score": score,
                "components": pair.components,
                "weights_version": ctx.weights.version,
                "weights": weights,
                "schedule_id": schedule_id,
                "schedule_version": schedule_version,
                "raw_price_per_kg": offer["price_per_kg"],
                "adjusted_price_per_kg": adjusted,
                "distance_km": distance,
                "risk_result": RISK_NAMES[1] if pair.warned else RISK_NAMES[0],
                "explanation": explanation,
                "filters_passed": pair.filters,
                "proposed_at": proposed_at,
                "scored_at": now,
                "withdrawn_at": None,
                "withdrawn_reason": "",
                # For the events: the offer's and the requirement's public facts.
                "_offer": offer,
                "_requirement": requirements[pair.requirement_id],
            }
        )
        rows.append(row)
        if before is None or before.status != ProposalStatus.ACTIVE:
            new.append(row)
        elif before.score != score:
            changed.append(row)
    return new, changed, rows


def _side_event(event_type: str, proposal: MatchProposal, side: str) -> PendingEvent:
    partner_id = proposal.buyer_id if side == "buyer" else proposal.seller_id
    return PendingEvent(
        event_type=event_type,
        aggregate_type="matching.matchproposal",
        aggregate_id=proposal.pk,
        organization_id=proposal.organization_id,
        partner_id=partner_id,
        payload=side_payload(proposal, side, offer=proposal._offer, requirement=proposal._requirement),  # type: ignore[attr-defined]
    )


def _run_events(new: list[MatchProposal], changed: list[MatchProposal]) -> list[PendingEvent]:
    """Each side's top 5 new proposals of one posting's run: matching.match.proposed; score
    changes: matching.match.updated to both sides."""
    pending = []
    best_first = sorted(new, key=lambda p: (-p.score, str(p.pk)))
    for side, key in (("buyer", "buyer_id"), ("seller", "seller_id")):
        sent: dict[UUID, int] = defaultdict(int)
        for proposal in best_first:
            partner = getattr(proposal, key)
            if sent[partner] < TOP_NEW_PER_SIDE:
                sent[partner] += 1
                pending.append(_side_event(events.MATCH_PROPOSED, proposal, side))
    for proposal in changed:
        pending.append(_side_event(events.MATCH_UPDATED, proposal, "buyer"))
        pending.append(_side_event(events.MATCH_UPDATED, proposal, "seller"))
    return pending


def _emit_run(pending: list[PendingEvent]) -> None:
    """The run's events, in one outbox INSERT."""
    emit_many(pending, instances=False)


def _withdraw(
    proposals: Iterable[MatchProposal], reasons: dict[UUID, str]
) -> tuple[list[MatchProposal], list[PendingEvent]]:
    """WITHDRAW the given ACTIVE proposals (locked by the caller), each with its reason (one
    UPDATE); their matching.match.withdrawn events, one a side."""
    now = timezone.now()
    withdrawn = []
    pending = []
    for proposal in proposals:
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.withdrawn_at = now
        proposal.updated_at = now
        proposal.withdrawn_reason = reasons.get(proposal.pk, "no_longer_matches")[:80]
        withdrawn.append(proposal)
    if withdrawn:
        # One statement, the reasons as an array beside the ids (bound on the server): an offer
        # outranking hundreds of stored pairs withdraws them all, and bulk_update's CASE per row
        # cost more than the rest of the run.
        with server_bound_cursor() as cursor:
            cursor.execute(
                f"UPDATE {MatchProposal._meta.db_table} AS p SET status = %s, withdrawn_at = %s, updated_at = %s, "  # noqa: S608 (table name from the model)
                "withdrawn_reason = u.reason FROM unnest(%s::uuid[], %s::text[]) AS u(id, reason) WHERE p.id = u.id",
                [
                    ProposalStatus.WITHDRAWN.value,
                    now,
                    now,
                    [p.pk for p in withdrawn],
                    [p.withdrawn_reason for p in withdrawn],
                ],
            )
        for proposal in withdrawn:
            payload = {
                "token": proposal.token,
                "reason": proposal.withdrawn_reason,
                "score": str(proposal.score),
            }
            for side, partner_id in (("buyer", proposal.buyer_id), ("seller", proposal.seller_id)):
                pending.append(
                    PendingEvent(
                        event_type=events.MATCH_WITHDRAWN,
                        aggregate_type="matching.matchproposal",
                        aggregate_id=proposal.pk,
                        organization_id=proposal.organization_id,
                        partner_id=partner_id,
                        payload={**payload, "side": side},
                    )
                )
    return withdrawn, pending


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
    """The offers' rows locked (sorted: one lock order) and read in the same query (after a
    wait, the row as the other transaction left it), only those still ACTIVE with something
    available."""
    wanted = sorted(set(ids), key=str)
    if not wanted:
        return {}
    rows = (
        Availability.objects.filter(pk__in=wanted).order_by("pk").select_for_update(of=("self",)).values(*_OFFER_FIELDS)
    )
    return {row["id"]: row for row in rows if row["status"] == AvailabilityStatus.ACTIVE and row["available_kg"] > 0}


def _lock_requirements(ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    wanted = sorted(set(ids), key=str)
    if not wanted:
        return {}
    rows = (
        Requirement.objects.filter(pk__in=wanted)
        .order_by("pk")
        .select_for_update(of=("self",))
        .values(*_REQUIREMENT_FIELDS)
    )
    return {row["id"]: row for row in rows if row["status"] in MATCHABLE_REQUIREMENT_STATES}


def _proposals_of(**filters: Any) -> dict[tuple[UUID, UUID], MatchProposal]:
    proposals = MatchProposal.objects.filter(**filters).order_by("requirement_id", "availability_id")
    return {(p.requirement_id, p.availability_id): p for p in proposals.select_for_update()}


# --- the runs -------------------------------------------------------------------------------------


def _as_uuid(value: UUID | str, what: str) -> UUID:
    """A posting id given as a UUID or as its text (an event's aggregate id is text): the run
    compares it with the ids the database returns, so text must not slip through as text."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise ValueError(f"{what} must be a UUID, not {value!r}") from exc


def requirement_match(*, requirement_id: UUID | str, ctx: Context | None = None) -> RunResult:
    """Match one requirement against every ACTIVE offer of its commodity in its organization,
    keeping its best `MatchingSettings.proposals_per_requirement` (top N) proposals.

    Locks (advisory) the requirement's run, then the kept offers FOR SHARE and the requirement
    FOR SHARE. A requirement no longer open (or deleted) has its proposals withdrawn and gets
    none; a stored proposal that falls out of the top N is withdrawn as `outranked`. Emits
    matching.match.proposed / updated / withdrawn."""
    requirement_id = _as_uuid(requirement_id, "requirement_id")
    with transaction.atomic():
        lock_posting_run("requirement", requirement_id)
        return _match_requirements([requirement_id], ctx=ctx)[requirement_id]


@dataclass
class _Plan:
    """One open requirement of a run, scored."""

    view: RequirementView
    commodity: Commodity
    ctx: Context
    cands: Candidates
    evaluation: Evaluation
    pairs: list[Scored]


@dataclass
class _Scoring:
    """Requirements scored for a run: the status of each (None: gone), the plan of each open one,
    and the stamp of each (`_stamps`) read before them."""

    statuses: dict[UUID, str]
    plans: dict[UUID, _Plan]
    stamps: dict[UUID, str]


def _match_requirements(
    requirement_ids: list[UUID], *, ctx: Context | None = None, shared: Candidates | None = None
) -> dict[UUID, RunResult]:
    """The run of each requirement (the caller holds their advisory locks, in its transaction):
    `ctx` when they share one organization and commodity, `shared` the unfiltered candidate
    columns of that commodity (the sweep), else each loads its own (SQL prefilter). One upsert,
    one withdrawal UPDATE and one outbox INSERT for all of them."""
    return _write(requirement_ids, _score(requirement_ids, ctx=ctx, shared=shared, stamped=False))


# A requirement's stamp: the row versions (xmin and ctid, as engine._STAMP_SQL) of everything its
# view is read from: the requirement, its buyer, its delivery locations and its invitations. Any
# change to one of them changes the text.
_STAMPS_SQL = """
SELECT r.id, r.xmin::text || r.ctid::text || '|' || p.xmin::text || p.ctid::text || '|' ||
       coalesce((SELECT string_agg(l.id::text || l.xmin::text || l.ctid::text, ',' ORDER BY l.id)
                 FROM {location} l WHERE l.requirement_id = r.id), '') || '|' ||
       coalesce((SELECT string_agg(i.id::text || i.xmin::text || i.ctid::text, ',' ORDER BY i.id)
                 FROM {invited} i WHERE i.requirement_id = r.id), '')
FROM {requirement} r JOIN {partner} p ON p.id = r.partner_id
WHERE r.id = ANY(%s)
"""


def _stamps(requirement_ids: list[UUID]) -> dict[UUID, str]:
    sql = _STAMPS_SQL.format(
        requirement=Requirement._meta.db_table,
        partner=BusinessPartner._meta.db_table,
        location=RequirementDeliveryLocation._meta.db_table,
        invited=Requirement.invited_partners.through._meta.db_table,
    )
    with server_bound_cursor() as cursor:
        cursor.execute(sql, [requirement_ids])
        return dict(cursor.fetchall())


def _score(requirement_ids: list[UUID], *, ctx: Context | None, shared: Candidates | None, stamped: bool) -> _Scoring:
    """Read and score the requirements (no lock, no write). With `stamped`, each one's stamp is
    read first: a requirement whose stamp differs when its run writes (under its lock) is scored
    again there (`_rescore_changed`)."""
    contexts: dict[tuple[UUID, UUID], Context] = {}

    def context_of(organization_id: UUID, commodity_id: UUID) -> Context:
        key = (organization_id, commodity_id)
        if key not in contexts:
            contexts[key] = ctx if ctx is not None else matching_context(organization_id, commodity_id)
        return contexts[key]

    # Stamps before the rows they stamp: a change committed in between makes the write re-score.
    stamps = _stamps(requirement_ids) if stamped else {}
    statuses = dict(Requirement.objects.filter(pk__in=requirement_ids).values_list("pk", "status"))
    views = requirement_views(
        Requirement.objects.filter(pk__in=requirement_ids, status__in=MATCHABLE_REQUIREMENT_STATES),
        commodity_of=lambda organization_id, commodity_id: context_of(organization_id, commodity_id).commodity,
        insiders=ctx.insiders if ctx is not None else {},
    )
    plans: dict[UUID, _Plan] = {}
    for requirement_id in requirement_ids:
        view = views.get(requirement_id)
        if view is None:
            continue
        run_ctx = context_of(view.organization_id, view.commodity_id)
        commodity = run_ctx.commodity
        if shared is not None:
            cands = _invited_for(shared, view.partner_id)
        else:
            cands = load_candidates(view, commodity, quality_codes=run_ctx.quality_codes(view.spec))
        evaluation = evaluate(view, cands, run_ctx)
        # A few beyond the top N: an offer found gone under lock leaves its place to the next.
        top = ranked(evaluation, cands.ids, run_ctx.top_n + LOCK_MARGIN)
        pairs = [_scored(view, cands, evaluation, i, run_ctx) for i in top]
        plans[requirement_id] = _Plan(view, commodity, run_ctx, cands, evaluation, pairs)
    return _Scoring(statuses, plans, stamps)


def _rescore_changed(requirement_ids: list[UUID], scoring: _Scoring, *, ctx: Context, shared: Candidates) -> _Scoring:
    """`scoring` with the requirements whose stamp changed since it was read scored again (the
    caller holds their run locks, so what it reads now stays until its commit). The shared
    columns are copied without their memo: another thread may be scoring with them."""
    now = _stamps(requirement_ids)
    changed = [pk for pk in requirement_ids if now.get(pk) != scoring.stamps.get(pk)]
    if not changed:
        return scoring
    again = _score(changed, ctx=ctx, shared=dataclasses.replace(shared, cache={}), stamped=False)
    plans = {pk: plan for pk, plan in scoring.plans.items() if pk not in changed}
    plans.update(again.plans)
    statuses = {pk: status for pk, status in scoring.statuses.items() if pk not in changed}
    statuses.update(again.statuses)
    return _Scoring(statuses, plans, now)


def _write(requirement_ids: list[UUID], scoring: _Scoring) -> dict[UUID, RunResult]:
    """Store the scored runs (the caller holds the requirements' run locks, in its transaction):
    the kept offers and requirements locked and checked, one upsert, one withdrawal UPDATE, one
    outbox INSERT."""
    existing: dict[UUID, dict[tuple[UUID, UUID], MatchProposal]] = defaultdict(dict)
    for key, proposal in _proposals_of(requirement_id__in=requirement_ids).items():
        existing[key[0]][key] = proposal
    stale: dict[UUID, list[MatchProposal]] = defaultdict(list)
    reasons: dict[UUID, str] = {}
    plans: list[_Plan] = []
    for requirement_id in requirement_ids:
        plan = scoring.plans.get(requirement_id)
        if plan is None:
            active = [p for p in existing[requirement_id].values() if p.status == ProposalStatus.ACTIVE]
            status = scoring.statuses.get(requirement_id)
            reason = "requirement_gone" if status is None else f"requirement_{status.lower()}"
            stale[requirement_id] = active
            reasons.update({p.pk: reason for p in active})
            continue
        plans.append(plan)

    offers = _lock_offers(p.availability_id for plan in plans for p in plan.pairs)
    locked = _lock_requirements(plan.view.id for plan in plans)
    results: dict[UUID, RunResult] = {}
    rows: list[MatchProposal] = []
    pending: list[PendingEvent] = []
    reported: dict[UUID, str] = {}
    for plan in plans:
        view = plan.view
        pairs = [p for p in plan.pairs if p.availability_id in offers] if view.id in locked else []
        pairs = pairs[: plan.ctx.top_n]
        new, changed, kept = _rows(
            pairs,
            views={view.id: view},
            ctx=plan.ctx,
            existing=existing[view.id],
            offers=offers,
            requirements=locked,
            reported=reported,
        )
        rows += kept
        kept_pairs = {(p.requirement_id, p.availability_id) for p in pairs}
        dropped = [
            p for key, p in existing[view.id].items() if p.status == ProposalStatus.ACTIVE and key not in kept_pairs
        ]
        stale[view.id] = dropped
        reasons.update(_stale_reasons(dropped, plan, offers))
        results[view.id] = RunResult(new, changed, [], sorted(kept, key=lambda p: (-p.score, str(p.availability_id))))
    rows.sort(key=lambda p: (str(p.requirement_id), str(p.availability_id)))
    _upsert(rows)
    withdrawn, pending = _withdraw([p for ids in requirement_ids for p in stale.get(ids, [])], reasons)
    by_requirement: dict[UUID, list[MatchProposal]] = defaultdict(list)
    for proposal in withdrawn:
        by_requirement[proposal.requirement_id].append(proposal)
    news: list[PendingEvent] = []
    for requirement_id in requirement_ids:
        result = results.setdefault(requirement_id, RunResult([], [], [], []))
        result.withdrawn = by_requirement[requirement_id]
        news += _run_events(result.proposed, result.updated)
    _emit_run(news + pending)  # the news first (availability_match says why)
    return results


def _stale_reasons(stale: list[MatchProposal], plan: _Plan, offers: dict[UUID, Any]) -> dict[UUID, str]:
    """Why each of a requirement's proposals is no longer kept: the offer's state when it left
    the market, the first filter it fails now, `below_minimum_score`, or `outranked` (it still
    passes, but N better offers are kept); offers the SQL prefilter dropped are evaluated again
    without it."""
    if not stale:
        return {}
    view, cands, evaluation = plan.view, plan.cands, plan.evaluation
    index = {cid: i for i, cid in enumerate(cands.ids)}
    # Not among the candidates, or among those locked and found gone: the offer's state says why.
    locked_ids = {p.availability_id for p in plan.pairs}
    missing = [
        p.availability_id
        for p in stale
        if p.availability_id not in index or (p.availability_id in locked_ids and p.availability_id not in offers)
    ]
    states = dict(Availability.objects.filter(pk__in=missing).values_list("pk", "status"))
    recheck = [pk for pk in missing if states.get(pk) == AvailabilityStatus.ACTIVE and pk not in index]
    again_evaluation, again_index = None, {}
    if recheck:
        codes = plan.ctx.quality_codes(view.spec)
        again = load_candidates(view, plan.commodity, quality_codes=codes, prefilter=False, only_ids=recheck)
        again_evaluation = evaluate(view, again, plan.ctx)
        again_index = {cid: i for i, cid in enumerate(again.ids)}
    reasons = {}
    for proposal in stale:
        pk = proposal.availability_id
        if pk in index and pk not in missing:
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
    if evaluation.proposable[index]:
        return OUTRANKED
    return "below_minimum_score"


def availability_match(*, availability_id: UUID | str) -> RunResult:  # noqa: C901 (the top-N displacement steps read best in one place)
    """Match one offer against every open requirement of its commodity in its organization,
    within each requirement's top N.

    Locks (advisory) the offer's run, then the offer FOR SHARE and the kept requirements FOR
    SHARE (the trade desk's order). For each requirement the pair is kept when it passes and
    ranks among the requirement's N best stored proposals (the N-th is then withdrawn as
    `outranked`). When a kept pair leaves a full top N, or sinks in it, an offer not stored may
    now belong there: the requirement is matched again in full (`_refill`). An offer no longer
    ACTIVE with something available has its proposals withdrawn. Emits like requirement_match."""
    availability_id = _as_uuid(availability_id, "availability_id")
    with transaction.atomic():
        lock_posting_run("availability", availability_id)
        availability = Availability.objects.filter(pk=availability_id).first()
        existing = _proposals_of(availability_id=availability_id)
        active = [p for p in existing.values() if p.status == ProposalStatus.ACTIVE]
        if availability is None or availability.status != AvailabilityStatus.ACTIVE or availability.available_kg <= 0:
            reason = "availability_gone" if availability is None else f"availability_{availability.status.lower()}"
            if availability is not None and availability.status == AvailabilityStatus.ACTIVE:
                reason = "nothing_available"
            full = _full_before(active)
            withdrawn, pending = _withdraw(active, {p.pk: reason for p in active})
            _emit_run(pending)
            _refill(full)
            return RunResult([], [], withdrawn, [])
        ctx = matching_context(availability.organization_id, availability.commodity_id)
        commodity = ctx.commodity
        views = requirement_views(
            Requirement.objects.filter(
                organization_id=availability.organization_id,
                commodity_id=availability.commodity_id,
                status__in=MATCHABLE_REQUIREMENT_STATES,
            ).order_by("id"),
            commodity_of=lambda organization_id, commodity_id: commodity,
            insiders=ctx.insiders,
        )
        codes: set[str] = set()
        for view in views.values():
            codes |= ctx.quality_codes(view.spec)
        offer = load_offer(availability_id, commodity, quality_codes=codes)
        invited = frozenset(availability.invited_partners.values_list("pk", flat=True))
        passing: dict[UUID, Scored] = {}
        evaluations: dict[UUID, Evaluation] = {}
        for view in views.values():
            one = for_buyer(offer, invited, view.partner_id)
            evaluation = evaluate(view, one, ctx)
            evaluations[view.id] = evaluation
            if evaluation.proposable[0]:
                passing[view.id] = _scored(view, one, evaluation, 0, ctx)

        # Each requirement's other stored proposals, best first: does the pair make its top N?
        was_active = {p.requirement_id: p for p in active}
        others = _stored_ranking(set(passing) | set(was_active), exclude=availability_id, top_n=ctx.top_n)
        pairs: list[Scored] = []
        outranked: list[UUID] = []
        refill: list[UUID] = []
        for requirement_id in sorted(set(passing) | set(was_active), key=str):
            pair, before = passing.get(requirement_id), was_active.get(requirement_id)
            ranking = others.get(requirement_id, _Ranking())
            if before is not None and ranking.count >= ctx.top_n - 1:
                sinks = pair is None or pair.score < float(before.components.get("total", before.score))
                if sinks and try_lock_posting_run("requirement", requirement_id):
                    refill.append(requirement_id)  # matched again in full below
                    continue
            if pair is None:
                continue
            if ranking.count < ctx.top_n:
                pairs.append(pair)
            elif (-pair.score, str(availability_id)) < ranking.from_nth[0][0]:
                pairs.append(pair)
                outranked += [proposal_id for _, proposal_id in ranking.from_nth]

        offers = _lock_offers([availability_id])
        locked = _lock_requirements(p.requirement_id for p in pairs)
        pairs = [p for p in pairs if p.requirement_id in locked and availability_id in offers]
        new, changed, kept = _rows(
            pairs,
            views=views,
            ctx=ctx,
            existing=existing,
            offers=offers,
            requirements=locked,
        )
        _upsert(kept)
        kept_pairs = {(p.requirement_id, p.availability_id) for p in pairs}
        stale = [
            p
            for key, p in existing.items()
            if p.status == ProposalStatus.ACTIVE and key not in kept_pairs and p.requirement_id not in refill
        ]
        reasons = {
            p.pk: _reason(evaluations[p.requirement_id], 0) if p.requirement_id in evaluations else "no_longer_matches"
            for p in stale
        }
        displaced = list(
            MatchProposal.objects.filter(pk__in=outranked, status=ProposalStatus.ACTIVE)
            .order_by("requirement_id", "availability_id")
            .select_for_update()
        )
        reasons.update({p.pk: OUTRANKED for p in displaced})
        withdrawn, pending = _withdraw([*stale, *displaced], reasons)
        # The news first: the relay delivers in outbox order, and an offer outranking hundreds of
        # stored pairs would otherwise make its buyers wait behind every withdrawal.
        _emit_run(_run_events(new, changed) + pending)
        mine = [p for p in withdrawn if p.availability_id == availability_id]
        for requirement_id in refill:
            again = _match_requirements([requirement_id])[requirement_id]
            new += [p for p in again.proposed if p.availability_id == availability_id]
            changed += [p for p in again.updated if p.availability_id == availability_id]
            mine += [p for p in again.withdrawn if p.availability_id == availability_id]
            kept += [p for p in again.kept if p.availability_id == availability_id]
    return RunResult(new, changed, mine, sorted(kept, key=lambda p: (-p.score, str(p.requirement_id))))


_RANKING_SQL = """
SELECT requirement_id, availability_id, id, value, rank, count FROM (
    SELECT requirement_id, availability_id, id, value,
           row_number() OVER (PARTITION BY requirement_id ORDER BY value DESC, availability_id) AS rank,
           count(*) OVER (PARTITION BY requirement_id) AS count
    FROM (
        SELECT requirement_id, availability_id, id,
               coalesce((components ->> 'total')::float8, score::float8) AS value
        FROM {table}
        WHERE requirement_id = ANY(%s) AND status = %s AND availability_id <> %s
    ) AS active
) AS ranked
WHERE rank >= %s OR rank = 1
"""


@dataclass
class _Ranking:
    """A requirement's ACTIVE proposals but the offer's own: how many, and those from the N-th
    best on, best first, as ((-score, offer id as text), proposal id)."""

    count: int = 0
    from_nth: list[tuple[tuple[float, str], UUID]] = dataclasses.field(default_factory=list)


def _stored_ranking(requirement_ids: set[UUID], *, exclude: UUID, top_n: int) -> dict[UUID, _Ranking]:
    """Each requirement's ranking (`_Ranking`) in requirement_match's order: the float score it
    stored (its components' total), then the offer id. Ranked by the database, which returns
    only the rows from the N-th on (an offer's run asks for thousands of requirements' top N,
    and reading them all cost more than the run's matching). UUIDs order as their text does,
    and the stored total reads back as the same double (jsonb keeps its digits)."""
    ranking: dict[UUID, _Ranking] = defaultdict(_Ranking)
    if not requirement_ids:
        return ranking
    with server_bound_cursor() as cursor:
        cursor.execute(
            _RANKING_SQL.format(table=MatchProposal._meta.db_table),
            [sorted(requirement_ids, key=str), ProposalStatus.ACTIVE.value, exclude, top_n],
        )
        rows = cursor.fetchall()
    rows.sort(key=lambda row: (row[0], row[4]))
    for requirement_id, offer_id, pk, value, rank, count in rows:
        entry = ranking[requirement_id]
        entry.count = count
        if rank >= top_n:
            entry.from_nth.append(((-value, str(offer_id)), pk))
    return ranking


def _full_before(active: list[MatchProposal]) -> list[UUID]:
    """The requirements of `active` (an offer's proposals about to go) whose top N is full: an
    offer not stored may take the freed place."""
    if not active:
        return []
    ids = {p.requirement_id for p in active}
    organization_id = active[0].organization_id
    settings = MatchingSettings.objects.filter(organization_id=organization_id).first()
    top_n = settings.proposals_per_requirement if settings is not None else DEFAULT_PROPOSALS_PER_REQUIREMENT
    counts = (
        MatchProposal.objects.filter(requirement_id__in=ids, status=ProposalStatus.ACTIVE)
        .values("requirement_id")
        .annotate(n=Count("id"))
    )
    return sorted((row["requirement_id"] for row in counts if row["n"] >= top_n), key=str)


def _refill(requirement_ids: list[UUID]) -> None:
    """Match again each requirement whose run lock is free (a run holding it re-reads the
    offers under lock, and the sweep catches the rest)."""
    for requirement_id in requirement_ids:
        if try_lock_posting_run("requirement", requirement_id):
            _match_requirements([requirement_id])


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
    """Match many requirements (the sweep, the demo seed): the candidates of each (organization,
    commodity) loaded once without the SQL prefilter (one requirement's filters are not
    another's), with what does not depend on the requirement (distances to shared delivery
    towns, the schedule's adjustments, risk answers) computed once; the requirements run in
    blocks of SWEEP_BLOCK, each block one transaction (their advisory locks in id order, one
    upsert, one withdrawal UPDATE, one outbox INSERT). Returns the number of pairs evaluated.
    The shared columns may be a moment old by the last block: the kept offers' state is read
    again under lock, and any other change since emitted its own event, whose run follows."""
    with old_objects_frozen():  # full collections would re-scan the whole process (core.collector)
        return _match_bulk(sorted({_as_uuid(pk, "requirement_id") for pk in requirement_ids}, key=str))


def _match_bulk(wanted: list[UUID]) -> int:
    rows = Requirement.objects.filter(pk__in=wanted).values_list(
        "pk", "organization_id", "commodity_id", "status", "spec"
    )
    groups: dict[tuple[UUID, UUID], list[tuple[UUID, str, Any]]] = defaultdict(list)
    for pk, organization_id, commodity_id, status, spec in rows:
        groups[(organization_id, commodity_id)].append((pk, status, spec))
    scored = 0
    for (organization_id, commodity_id), members in groups.items():
        members.sort(key=lambda member: str(member[0]))
        ctx = matching_context(organization_id, commodity_id)
        commodity = ctx.commodity
        codes: set[str] = set()
        for _, _, spec in members:
            codes |= ctx.quality_codes(spec or {})
        open_ids = {pk for pk, status, _ in members if status in MATCHABLE_REQUIREMENT_STATES}
        shared: Candidates | None = None
        if open_ids:
            first = requirements_for_matching(Requirement.objects.filter(pk=min(open_ids, key=str))).get()
            shared = load_candidates(
                requirement_view(first, commodity), commodity, quality_codes=codes, prefilter=False
            )
        ids = [pk for pk, _, _ in members]
        blocks = [ids[start : start + SWEEP_BLOCK] for start in range(0, len(ids), SWEEP_BLOCK)]
        if shared is None or connection.in_atomic_block or not SWEEP_WRITER:
            # Inline: each block scored and written under its locks (inside a caller's
            # transaction a thread's connection could not see the caller's rows).
            for block in blocks:
                with transaction.atomic():
                    lock_posting_runs("requirement", block)
                    _match_requirements(block, ctx=ctx, shared=shared)
        else:
            with _BlockWriter() as writer:
                for block in blocks:
                    scoring = _score(block, ctx=ctx, shared=shared, stamped=True)
                    writer.submit(_write_block, block, scoring, ctx, shared)
        if shared is not None:
            scored += len(shared) * len(open_ids)
    return scored


def _write_block(block: list[UUID], scoring: _Scoring, ctx: Context, shared: Candidates) -> None:
    """One sweep block's transaction in the writer's thread: the block's run locks, the
    requirements changed since they were scored scored again, then the write."""
    with transaction.atomic():
        lock_posting_runs("requirement", block)
        _write(block, _rescore_changed(block, scoring, ctx=ctx, shared=shared))


class _BlockWriter:
    """One thread writing a sweep's scored blocks in order, each in its own transaction on the
    thread's own database connection, while the caller scores the next block. Scoring is Python
    in this process, writing is mostly the database server's work: on two cores the two overlap
    (the sweep's blocks had spent most of their time waiting for the server). At most one block
    is in flight, so blocks commit in order, and a block's error stops the sweep as it did
    inline. The requirements are scored before their locks are taken: a requirement changed in
    between is scored again under its lock (`_rescore_changed`)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matching-sweep")
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        self.wait()
        # The caller's context (request id, log context) goes with the block.
        self._pending = self._pool.submit(contextvars.copy_context().run, write, *args)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> _BlockWriter:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        try:
            if kind is None:
                self.wait()
            elif self._pending is not None:
                # Failing already: let the block in flight end (its own error, if any, is the
                # lesser news) before the thread's connection is closed.
                self._pending.exception()
        finally:
            self._pool.submit(connections.close_all).result()
            self._pool.shutdown()


def _invited_for(cands: Candidates, buyer_id: UUID) -> Candidates:
    """The shared columns with `invited` answered for this buyer: the invitations of the
    RESTRICTED offers are read once per candidate set (one query), then looked up per buyer,
    and the buyer's copy kept with the set (a sweep's requirements share their buyers)."""
    key = f"invited for:{buyer_id}"
    if key in cands.cache:
        mine: Candidates = cands.cache[key]
        return mine
    if "invitations" not in cands.cache:
        # Only the RESTRICTED rows by id (not every row's: hashing 50,000 UUIDs cost more than
        # the query).
        index = {cands.ids[i]: int(i) for i in np.flatnonzero(cands.visibility == 1)}
        restricted = list(index)
        invitations: dict[UUID, list[int]] = defaultdict(list)
        if restricted:
            through = Availability.invited_partners.through
            rows = through.objects.filter(availability_id__in=restricted).values_list(
                "availability_id", "businesspartner_id"
            )
            for availability_id, partner_id in rows:
                invitations[partner_id].append(index[availability_id])
        cands.cache["invitations"] = invitations
    invited = np.zeros(len(cands), dtype=bool)
    invited[cands.cache["invitations"].get(buyer_id, [])] = True
    mine = cands.cache[key] = dataclasses.replace(cands, invited=invited)
    return mine

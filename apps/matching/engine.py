"""The matching engine's arithmetic (SPEC section 8): one requirement against a set of candidate
offers given as columns, every hard filter a boolean mask, every score component an array.

Filters, in the order reasons are listed (each excludes with its code):

    variety_mismatch        the buyer fixed a variety and the offer is another
    visibility              a RESTRICTED offer not inviting the buyer, a RESTRICTED requirement not
                            inviting the seller, or either PRIVATE (the desk's only)
    partner_inactive        buyer or seller not ACTIVE
    kyc_expired             buyer or seller without valid KYC
    capability_missing      the buyer may not buy or the seller may not sell
    insiders                the same partner, or insiders of each other (partners.insiders)
    party_link              risk's party check FAILs (same PAN/GSTIN ...)
    risk_fail               the buyer's or the seller's risk assessment FAILs
    quantity_below_minimum  available < the buyer's minimum, the offer's minimum order above the
                            buyer's maximum, or a lot sold whole that is larger than the maximum
    price_above_max         raw price per kg above the buyer's maximum per kg
    out_of_radius           no delivery location within its radius (haversine) or in the same city
                            (only when the organization enforces the radius)
    window_disjoint         the offer's window misses the delivery window
    quality:<p>:<why>       a hard spec constraint fails (min, max, exact, accepted, missing), or the
                            schedule rejects the value (schedule_reject)

Score in [0, 1]: (wq quality + wp price + wd delivery + wr risk) / (wq + wp + wd + wr), times 0.9 when
risk WARNs; proposed when at least the commodity's minimum.

- quality: per spec parameter, 1 at the preferred value falling linearly to 0.5 at the edge of the
  range (the spec's min/max, else the parameter's own range); 1 when the spec names no preferred
  value (or fixes it with exact); a grade other than the preferred one 0.5; a value the spec only
  prefers but the offer does not state 0.5. Mean over the spec's parameters; 1 without a spec.
- price: on the quality-adjusted price per kg (pricing.py; the raw price plus freight when the
  commodity has no schedule): 1 at or below the preferred price, linearly to 0 at the maximum (0
  above it); without a preferred price, 1 up to the maximum.
- delivery: the mean of a distance score (best delivery location: 1 in the same city, else
  1 - distance / radius, not below 0) and the window slack (the share of the delivery window the
  offer's window covers).
- risk: PASS 1, WARN 0.5.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
from django.db import connection

from apps.commodities.models import Commodity, ParameterKind
from apps.commodities.quality import HARD_KEYS, active_parameters
from apps.commodities.selectors import active_schedule
from apps.locations.distance import EARTH_RADIUS_KM
from apps.matching import risk
from apps.matching.candidates import Candidates, RequirementView
from apps.matching.models import (
    DEFAULT_MIN_SCORE,
    DEFAULT_PROPOSALS_PER_REQUIREMENT,
    DEFAULT_WEIGHTS,
    MatchingSettings,
    MatchingWeights,
)
from apps.matching.pricing import CompiledSchedule

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

BASE_FILTERS = (
    "variety_mismatch",
    "visibility",
    "partner_inactive",
    "kyc_expired",
    "capability_missing",
    "insiders",
    "party_link",
    "risk_fail",
    "quantity_below_minimum",
    "price_above_max",
    "out_of_radius",
    "window_disjoint",
)
WARN_FACTOR = 0.9
MEMO_MAX = 64  # parts kept per candidate set (`_memo`), each an array or three of its length
PRICED_MAX = 20_000  # priced lots kept per context before the memo starts again
RISK_CODES = {risk.PASS: 0, risk.WARN: 1, risk.FAIL: 2}
RISK_NAMES = {code: name for name, code in RISK_CODES.items()}


@dataclass(frozen=True)
class Weights:
    version: int
    quality: float
    price: float
    delivery: float
    risk: float
    min_score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "quality": self.quality,
            "price": self.price,
            "delivery": self.delivery,
            "risk": self.risk,
            "min_score": self.min_score,
        }


def weights_for(commodity_id: UUID) -> Weights:
    """The commodity's active weights version, else SPEC's defaults (version 0)."""
    row = MatchingWeights.objects.filter(commodity_id=commodity_id, is_active=True).first()
    if row is None:
        return Weights(
            0,
            float(DEFAULT_WEIGHTS["quality"]),
            float(DEFAULT_WEIGHTS["price"]),
            float(DEFAULT_WEIGHTS["delivery"]),
            float(DEFAULT_WEIGHTS["risk"]),
            float(DEFAULT_MIN_SCORE),
        )
    return Weights(
        row.version, float(row.quality), float(row.price), float(row.delivery), float(row.risk), float(row.min_score)
    )


@dataclass
class Context:
    """What scoring a commodity in an organization needs beyond the postings (loaded once)."""

    commodity: Commodity
    weights: Weights
    schedule: CompiledSchedule | None
    rate_factor: Decimal
    freight_per_kg_km: Decimal | None
    enforce_radius: bool
    ranges: dict[str, tuple[float | None, float | None]]  # parameter code -> its own range
    grade_codes: frozenset[str]
    top_n: int  # proposals a requirement keeps (MatchingSettings.proposals_per_requirement)
    risk_cache: RiskCache = field(default_factory=lambda: RiskCache())
    insiders: dict[UUID, frozenset[UUID]] = field(default_factory=dict)  # buyer -> its insiders, read once
    # Priced lots: (basis, reported schedule values) -> (explanation, total adjustment), shared
    # by the copies matching_context hands out (the schedule version is fixed per context).
    priced: dict[str, Any] = field(default_factory=dict)

    def quality_codes(self, spec: dict[str, Any]) -> set[str]:
        codes = set(spec)
        if self.schedule is not None:
            codes |= set(self.schedule.parameters)
        return codes


def context_for(organization_id: UUID, commodity: Commodity) -> Context:
    settings = MatchingSettings.objects.filter(organization_id=organization_id).first()
    schedule = active_schedule(commodity.pk)
    parameters = active_parameters(commodity)
    return Context(
        commodity=commodity,
        weights=weights_for(commodity.pk),
        schedule=CompiledSchedule.compile(schedule) if schedule is not None else None,
        rate_factor=commodity.rate_unit.factor_to_kg,
        freight_per_kg_km=settings.freight_per_kg_km if settings is not None else None,
        enforce_radius=settings.enforce_radius if settings is not None else True,
        ranges={
            code: (
                None if p.min_value is None else float(p.min_value),
                None if p.max_value is None else float(p.max_value),
            )
            for code, p in parameters.items()
        },
        grade_codes=frozenset(code for code, p in parameters.items() if p.kind == ParameterKind.GRADE),
        top_n=settings.proposals_per_requirement if settings is not None else DEFAULT_PROPOSALS_PER_REQUIREMENT,
    )


# --- the context, cached per (organization, commodity) while its rows stay the same ------------

# One query answers whether anything a Context is built from changed: the xmin (the writing
# transaction) and ctid (the row version's place: a second UPDATE in the same transaction keeps
# xmin but moves it) of every row it reads, in id order. Any INSERT, UPDATE (a queryset
# .update() too, which leaves updated_at alone) or DELETE of those rows changes the text, so a
# cached context is used only while its rows are the ones it was built from (as this statement
# sees them).
_STAMP_SQL = """
SELECT
  (SELECT string_agg(c.xmin::text || c.ctid::text || ':' || u.xmin::text || u.ctid::text, ',') FROM {commodity} c
     JOIN {unit} u ON u.id = c.rate_unit_id WHERE c.id = %(commodity)s),
  (SELECT string_agg(id::text || ':' || xmin::text || ctid::text, ',' ORDER BY id) FROM {parameter}
     WHERE commodity_id = %(commodity)s),
  (SELECT string_agg(id::text || ':' || xmin::text || ctid::text, ',' ORDER BY id) FROM {schedule}
     WHERE commodity_id = %(commodity)s),
  (SELECT string_agg(r.id::text || ':' || r.xmin::text || r.ctid::text, ',' ORDER BY r.id) FROM {rule} r
     JOIN {schedule} s ON s.id = r.schedule_id WHERE s.commodity_id = %(commodity)s AND s.is_active),
  (SELECT string_agg(id::text || ':' || xmin::text || ctid::text, ',' ORDER BY id) FROM {weights}
     WHERE commodity_id = %(commodity)s),
  (SELECT string_agg(id::text || ':' || xmin::text || ctid::text, ',' ORDER BY id) FROM {settings}
     WHERE organization_id = %(organization)s)
"""
_CONTEXTS: dict[tuple[UUID, UUID], tuple[tuple[Any, ...], Context]] = {}
_CONTEXTS_MAX = 256


def _stamp(organization_id: UUID, commodity_id: UUID) -> tuple[Any, ...]:
    from apps.commodities.models import QualityParameter, QualitySchedule, ScheduleRule, Unit

    sql = _STAMP_SQL.format(
        commodity=Commodity._meta.db_table,
        unit=Unit._meta.db_table,
        parameter=QualityParameter._meta.db_table,
        schedule=QualitySchedule._meta.db_table,
        rule=ScheduleRule._meta.db_table,
        weights=MatchingWeights._meta.db_table,
        settings=MatchingSettings._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"organization": organization_id, "commodity": commodity_id})
        row: tuple[Any, ...] = cursor.fetchone()
    return row


def matching_context(organization_id: UUID, commodity_id: UUID) -> Context:
    """`context_for` the commodity in the organization, built once and reused while the rows
    it is built from (commodity, rate unit, parameters, schedules and rules, weights, settings)
    are unchanged: one query instead of seven. Each call gets its own risk answers and insiders
    (those change without a stamp); the priced lots (`priced`) are shared, they depend only on
    the schedule version and the basis."""
    key = (organization_id, commodity_id)
    stamp = _stamp(organization_id, commodity_id)
    cached = _CONTEXTS.get(key)
    if cached is None or cached[0] != stamp:
        commodity = Commodity.objects.select_related("rate_unit").prefetch_related("parameters").get(pk=commodity_id)
        if len(_CONTEXTS) >= _CONTEXTS_MAX:
            _CONTEXTS.clear()
        cached = (stamp, context_for(organization_id, commodity))
        _CONTEXTS[key] = cached
    context = cached[1]
    if len(context.priced) > PRICED_MAX:
        context.priced.clear()
    return dataclasses.replace(context, risk_cache=RiskCache(), insiders={})


class RiskCache:
    """Risk answers of one matching run, each asked once (apps.matching.risk): party links per
    (buyer, seller), standings per (side, partner), results per (side, partner, amount)."""

    def __init__(self) -> None:
        self.party: dict[tuple[UUID, UUID], str] = {}
        self.standings: dict[UUID, risk.Standing | None] = {}
        self.assessed: dict[tuple[str, UUID, Decimal], str] = {}

    def party_results(self, buyer_id: UUID, seller_ids: list[UUID]) -> dict[UUID, str]:
        missing = [s for s in dict.fromkeys(seller_ids) if (buyer_id, s) not in self.party]
        if missing:
            for seller_id, result in risk.party_checks(buyer_id, missing).items():
                self.party[(buyer_id, seller_id)] = result
        return {s: self.party.get((buyer_id, s), risk.PASS) for s in seller_ids}

    def prime(self, partner_ids: list[UUID]) -> None:
        """Read the standings of the partners not read yet (one batch of queries)."""
        missing = [p for p in dict.fromkeys(partner_ids) if p not in self.standings]
        if missing:
            found = risk.standings(missing)
            for partner_id in missing:
                self.standings[partner_id] = found.get(partner_id)

    def assessments(self, side: str, partner_ids: list[UUID], amount: Decimal) -> dict[UUID, str]:
        self.prime(partner_ids)
        answers = {}
        for partner_id in partner_ids:
            key = (side, partner_id, amount)
            if key not in self.assessed:
                standing = self.standings[partner_id]
                # An unknown partner: risk's own assessment says why (PartnerNotFound).
                self.assessed[key] = (
                    risk.result_of(standing, side, amount)
                    if standing is not None
                    else risk.assessment(side, partner_id, amount)
                )
            answers[partner_id] = self.assessed[key]
        return answers

    def assessment(self, side: str, partner_id: UUID, amount: Decimal) -> str:
        return self.assessments(side, [partner_id], amount)[partner_id]


@dataclass
class Evaluation:
    """The engine's verdict on every candidate of one requirement."""

    failures: dict[str, BoolArray]  # reason code -> candidates it excludes (only codes that exclude some)
    passed: BoolArray
    quality: FloatArray
    price: FloatArray
    delivery: FloatArray
    risk: FloatArray
    score: FloatArray
    warned: BoolArray
    adjusted_per_kg: FloatArray
    adjustment_per_kg: FloatArray  # the schedule's T per kg (0 without one)
    distance_km: FloatArray  # to the nearest delivery location (NaN without any)
    proposable: BoolArray
    checked: list[str]  # every filter evaluated (the proposals' filters_passed)

    def failed_filters(self, index: int) -> list[str]:
        return [code for code, mask in self.failures.items() if mask[index]]


def haversine(lat: FloatArray, lon: FloatArray, lat0: float, lon0: float) -> FloatArray:
    """Great-circle km from (lat0, lon0) to each point (locations.distance's formula, vectorised)."""
    phi1 = np.radians(lat0)
    phi2 = np.radians(lat)
    d_phi = phi2 - phi1
    d_lambda = np.radians(lon - lon0)
    h = np.sin(d_phi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(d_lambda / 2) ** 2
    km: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return km


def _fit_numeric(value: FloatArray, constraints: dict[str, Any], own: tuple[float | None, float | None]) -> FloatArray:
    size = value.shape[0]
    missing = np.isnan(value)
    preferred = constraints.get("preferred")
    if "exact" in constraints or preferred is None:
        fit = np.ones(size)
    else:
        p = float(preferred)
        low = float(constraints["min"]) if "min" in constraints else own[0]
        high = float(constraints["max"]) if "max" in constraints else own[1]
        fit = np.ones(size)
        with np.errstate(invalid="ignore", divide="ignore"):
            if high is not None and high > p:
                above = value > p
                fit = np.where(above, 1 - 0.5 * np.minimum(1.0, (value - p) / (high - p)), fit)
            else:
                fit = np.where(value > p, 0.5, fit)
            if low is not None and low < p:
                below = value < p
                fit = np.where(below, 1 - 0.5 * np.minimum(1.0, (p - value) / (p - low)), fit)
            else:
                fit = np.where(value < p, 0.5, fit)
    result: FloatArray = np.where(missing, 0.5, fit)
    return result


def _fit_grade(values: list[str | None], constraints: dict[str, Any]) -> FloatArray:
    preferred = constraints.get("preferred")
    if "exact" in constraints or preferred is None:
        return np.array([1.0 if v is not None else 0.5 for v in values])
    return np.array([1.0 if v == preferred else 0.5 for v in values])


def _quality(
    view: RequirementView, cands: Candidates, ctx: Context, failures: dict[str, BoolArray]
) -> tuple[FloatArray, list[str]]:
    """Hard spec mismatches into `failures`; the quality fit of every candidate."""
    size = len(cands)
    fits: list[FloatArray] = []
    checked: list[str] = []
    for code, constraints in view.spec.items():
        checked.append(f"quality:{code}")
        hard = bool(HARD_KEYS & constraints.keys())
        if code in ctx.grade_codes:
            grades = cands.grades.get(code, [None] * size)
            missing = np.array([g is None for g in grades], dtype=bool)
            if "exact" in constraints:
                failures[f"quality:{code}:exact"] = np.array(
                    [g is not None and g != constraints["exact"] for g in grades], dtype=bool
                )
            if "accepted" in constraints:
                accepted = set(constraints["accepted"])
                failures[f"quality:{code}:accepted"] = np.array(
                    [g is not None and g not in accepted for g in grades], dtype=bool
                )
            fits.append(_fit_grade(grades, constraints))
        else:
            value = cands.numeric.get(code, np.full(size, np.nan))
            missing = np.isnan(value)
            with np.errstate(invalid="ignore"):
                if "exact" in constraints:
                    failures[f"quality:{code}:exact"] = ~missing & (value != float(constraints["exact"]))
                if "min" in constraints:
                    failures[f"quality:{code}:min"] = ~missing & (value < float(constraints["min"]))
                if "max" in constraints:
                    failures[f"quality:{code}:max"] = ~missing & (value > float(constraints["max"]))
            fits.append(_fit_numeric(value, constraints, ctx.ranges.get(code, (None, None))))
        if hard:
            failures[f"quality:{code}:missing"] = missing
    fit: FloatArray = np.mean(np.vstack(fits), axis=0) if fits else np.ones(size)
    return fit, checked


def _risk(
    view: RequirementView, cands: Candidates, ctx: Context, failures: dict[str, BoolArray]
) -> tuple[BoolArray, list[str]]:
    """Per seller (each asked once, then gathered over its offers)."""
    sellers, codes = cands.coded("partner_ids")
    ctx.risk_cache.prime([view.partner_id, *sellers])
    party = ctx.risk_cache.party_results(view.partner_id, sellers)
    buyer_result = ctx.risk_cache.assessment(risk.BUYER, view.partner_id, view.amount)
    seller_results = ctx.risk_cache.assessments(risk.SELLER, sellers, view.amount)
    party_codes = np.array([RISK_CODES[party[s]] for s in sellers], dtype=np.int64)[codes]
    seller_codes = np.array([RISK_CODES[seller_results[s]] for s in sellers], dtype=np.int64)[codes]
    assessed = np.maximum(seller_codes, RISK_CODES[buyer_result])
    failures["party_link"] = party_codes == 2
    failures["risk_fail"] = assessed == 2
    warned: BoolArray = (party_codes == 1) | (assessed == 1)
    return warned, ["party_link", "risk_fail"]


def _per_value(cands: Candidates, column: str, test: Any) -> BoolArray:
    """`test` of each row's value in `column`, asked once per distinct value."""
    values, codes = cands.coded(column)
    answers = np.fromiter((bool(test(v)) for v in values), dtype=bool, count=len(values))
    result: BoolArray = answers[codes]
    return result


def _distances(cands: Candidates, point: Any) -> FloatArray:
    """Haversine km from a delivery point to every candidate (kept with the candidate set: the
    sweep's requirements share their delivery towns)."""
    key = f"km:{point.latitude}:{point.longitude}"
    if key not in cands.cache:
        cands.cache[key] = haversine(cands.latitude, cands.longitude, point.latitude, point.longitude)
    km: FloatArray = cands.cache[key]
    return km


def _schedule_evaluation(cands: Candidates, schedule: CompiledSchedule) -> Any:
    """The schedule's per-candidate adjustments (requirement-independent: kept with the set)."""
    key = f"schedule:{schedule.schedule_id}:{schedule.version}"
    if key not in cands.cache:
        cands.cache[key] = schedule.evaluate(cands.numeric, len(cands))
    return cands.cache[key]


def _memo(cands: Candidates, key: tuple[Any, ...], compute: Any) -> Any:
    """`compute()` once per candidate set and `key`: what does not depend on the whole
    requirement is shared by the requirements a candidate set is evaluated for (the sweep's
    columns serve every requirement of the commodity; an offer's run, every requirement)."""
    memo: dict[tuple[Any, ...], Any] = cands.cache.setdefault("memo", {})
    if key not in memo:
        if len(memo) >= MEMO_MAX:  # bounded: many buyers or delivery points start it again
            memo.clear()
        memo[key] = compute()
    return memo[key]


def _risk_masks(view: RequirementView, cands: Candidates, ctx: Context) -> tuple[BoolArray, BoolArray, BoolArray]:
    """(party_link, risk_fail, warned) of the pairs. The answers are the run's (its RiskCache
    never changes one once given), so they are kept per buyer and amount with the candidate set
    while that RiskCache is the one asking."""
    cached = _memo(cands, ("risk", view.partner_id, view.amount, id(ctx.risk_cache)), lambda: None)
    if cached is None or cached[0] is not ctx.risk_cache:
        failures: dict[str, BoolArray] = {}
        warned, _ = _risk(view, cands, ctx, failures)
        cached = (ctx.risk_cache, failures["party_link"], failures["risk_fail"], warned)
        cands.cache["memo"][("risk", view.partner_id, view.amount, id(ctx.risk_cache))] = cached
    return cached[1], cached[2], cached[3]


def _delivery_parts(view: RequirementView, cands: Candidates, ctx: Context) -> tuple[FloatArray, FloatArray, BoolArray]:
    """(distance score, km to the nearest delivery location, outside every radius) per offer."""
    size = len(cands)
    if not view.delivery:
        return np.ones(size), np.full(size, np.nan), np.zeros(size, dtype=bool)
    distances = np.vstack([_distances(cands, p) for p in view.delivery])
    same_city: BoolArray = np.vstack(
        [_per_value(cands, "city", lambda c, city=p.city: bool(city) and c == city) for p in view.delivery]
    )
    radii = np.array([p.radius_km for p in view.delivery])[:, None]
    within = (distances <= radii) | same_city
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(radii > 0, 1 - distances / np.where(radii > 0, radii, 1.0), np.where(distances == 0, 1.0, 0.0))
    closeness = np.where(same_city, 1.0, np.clip(ratio, 0.0, 1.0))
    outside: BoolArray = np.logical_not(np.any(within, axis=0))
    return closeness.max(axis=0), distances.min(axis=0), outside


def _quality_parts(
    view: RequirementView, cands: Candidates, ctx: Context
) -> tuple[FloatArray, list[str], list[tuple[str, BoolArray]]]:
    """(quality fit, parameters checked, (reason, mask) in order) of the spec."""
    failures: dict[str, BoolArray] = {}
    fit, checked = _quality(view, cands, ctx, failures)
    return fit, checked, list(failures.items())


def _schedule_parts(
    view: RequirementView, cands: Candidates, ctx: Context
) -> tuple[FloatArray, list[tuple[str, BoolArray]]]:
    """(the schedule's adjustment per kg at the buyer's basis, schedule_reject masks)."""
    assert ctx.schedule is not None
    schedule_eval = _schedule_evaluation(cands, ctx.schedule)
    adjustment: FloatArray = schedule_eval.total(float(view.basis_per_rate_unit)) / float(ctx.rate_factor)
    return adjustment, [(f"quality:{code}:schedule_reject", mask) for code, mask in schedule_eval.rejected.items()]


def evaluate(view: RequirementView, cands: Candidates, ctx: Context) -> Evaluation:
    """Every filter, component and score of the candidates of one requirement (no queries but
    the risk answers not yet cached). The parts that depend on only some of the requirement
    (its variety, buyer, spec, delivery points, basis) are kept with the candidate set (`_memo`)."""
    size = len(cands)
    failures: dict[str, BoolArray] = {}
    none = _memo(cands, ("none",), lambda: np.zeros(size, dtype=bool))

    # Same commodity is the candidate set itself; the variety when the buyer fixed one.
    if view.variety_id is not None:
        failures["variety_mismatch"] = _memo(
            cands,
            ("variety", view.variety_id),
            lambda: _per_value(cands, "variety_ids", lambda v: v != view.variety_id),
        )
    else:
        failures["variety_mismatch"] = none

    offer_hidden = (cands.visibility == 2) | ((cands.visibility == 1) & ~cands.invited)
    if view.visibility == 2:
        failures["visibility"] = np.ones(size, dtype=bool)
    elif view.visibility == 1:
        failures["visibility"] = offer_hidden | _per_value(cands, "partner_ids", lambda p: p not in view.invited_ids)
    else:
        failures["visibility"] = offer_hidden

    for code in ("partner_inactive", "kyc_expired", "capability_missing"):
        if view.buyer_refusal == code:
            failures[code] = np.ones(size, dtype=bool)
        else:
            failures[code] = _memo(
                cands,
                ("refusal", code),
                lambda code=code: _per_value(cands, "seller_refusal", lambda refusal: refusal == code),
            )

    failures["insiders"] = _memo(
        cands,
        ("insiders", view.partner_id, view.insider_ids),
        lambda: _per_value(cands, "partner_ids", lambda p: p == view.partner_id or p in view.insider_ids),
    )
    failures["party_link"], failures["risk_fail"], warned = _risk_masks(view, cands, ctx)

    failures["quantity_below_minimum"] = (
        (cands.available_kg < view.min_kg)
        | (cands.min_order_kg > view.max_kg)
        | (~cands.partial_allowed & (cands.available_kg > view.max_kg))
    )
    failures["price_above_max"] = cands.price_per_kg > view.max_price_per_kg

    # Delivery: distance to each delivery location.
    distance_score, nearest, outside = _memo(
        cands, ("delivery", view.delivery), lambda: _delivery_parts(view, cands, ctx)
    )
    failures["out_of_radius"] = outside if ctx.enforce_radius else none

    span = view.window_end - view.window_start
    overlap = np.minimum(cands.until_ts, view.window_end) - np.maximum(cands.from_ts, view.window_start)
    failures["window_disjoint"] = overlap <= 0
    slack = np.clip(overlap / span, 0.0, 1.0) if span > 0 else np.zeros(size)
    delivery = 0.5 * distance_score + 0.5 * slack

    quality, quality_checked, quality_failures = _memo(
        cands,
        ("quality", repr(view.spec), repr(ctx.ranges), ctx.grade_codes),
        lambda: _quality_parts(view, cands, ctx),
    )
    failures.update(quality_failures)

    # Price: the quality-adjusted price at the buyer's basis.
    if ctx.schedule is not None:
        adjustment, rejects = _memo(
            cands,
            ("adjustment", ctx.schedule.schedule_id, ctx.schedule.version, view.basis_per_rate_unit, ctx.rate_factor),
            lambda: _schedule_parts(view, cands, ctx),
        )
        for code, rejected in rejects:
            failures[code] = failures.get(code, none) | rejected
    else:
        adjustment = _memo(cands, ("no adjustment",), lambda: np.zeros(size))
    adjusted = cands.price_per_kg - adjustment
    if ctx.freight_per_kg_km is not None:
        adjusted = adjusted + float(ctx.freight_per_kg_km) * np.nan_to_num(nearest)
    maximum = view.max_price_per_kg
    preferred = view.preferred_price_per_kg if view.preferred_price_per_kg is not None else maximum
    if maximum > preferred:
        price = np.clip((maximum - adjusted) / (maximum - preferred), 0.0, 1.0)
    else:
        price = np.where(adjusted <= maximum, 1.0, 0.0)

    risk_component = np.where(warned, 0.5, 1.0)
    w = ctx.weights
    total = w.quality + w.price + w.delivery + w.risk
    score = (w.quality * quality + w.price * price + w.delivery * delivery + w.risk * risk_component) / total
    score = np.clip(np.where(warned, score * WARN_FACTOR, score), 0.0, 1.0)

    ordered = {code: failures[code] for code in BASE_FILTERS}
    ordered.update({code: mask for code, mask in failures.items() if code not in ordered})
    excluding = {code: mask for code, mask in ordered.items() if mask.any()}
    passed = np.ones(size, dtype=bool)
    for mask in excluding.values():
        passed &= ~mask
    checked = [c for c in BASE_FILTERS if c != "out_of_radius" or ctx.enforce_radius] + quality_checked
    if ctx.schedule is not None:
        checked.append("schedule")
    return Evaluation(
        failures=excluding,
        passed=passed,
        quality=quality,
        price=price,
        delivery=delivery,
        risk=risk_component,
        score=score,
        warned=warned,
        adjusted_per_kg=adjusted,
        adjustment_per_kg=adjustment,
        distance_km=nearest,
        proposable=passed & (score >= w.min_score),
        checked=checked,
    )


def ranked(evaluation: Evaluation, ids: list[UUID], limit: int | None = None) -> list[int]:
    """Indexes of the proposable candidates, best first (score, then id as text); the best
    `limit` of them when given. Only the candidates scoring at least the limit-th best score
    (ties included) are sorted in Python."""
    indexes = np.flatnonzero(evaluation.proposable)
    scores = evaluation.score
    if limit is not None and len(indexes) > limit:
        negated = -scores[indexes]
        kth = np.partition(negated, limit - 1)[limit - 1]
        indexes = indexes[negated <= kth]
    order = sorted(indexes.tolist(), key=lambda i: (-float(scores[i]), str(ids[i])))
    return order if limit is None else order[:limit]

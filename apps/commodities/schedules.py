"""Quality premium/discount schedules: what a lot's quality does to its price.

`price_adjustment(schedule, values, basis_price)` reads one explicit schedule version (never
"the current one"), so a price computed with version 1 stays reproducible after version 2.

Semantics (also in `ScheduleRule`'s docstring):

- A value is first rounded half-up to its parameter's reporting precision (`decimals`: staple
  0.1 mm, micronaire 0.01): the schedule compares values as the classer reports them, so the
  gaps between written bands (27.9 | 28.0, 3.59 | 3.6) hold no reportable value.
- BAND `lower <= v <= upper`, both bounds inclusive (27.0-27.9 holds 27.0 and 27.9).
- RATIO from `basis` to the limit: a value strictly beyond the basis earns `value` per `step`
  points beyond it, counted up to the limit (trash basis 3.5, limit 5.0, -1% per 1 point:
  4.5 gives -1%; 6.0 counts 1.5 points, -1.5%, and a reject edge above 5.0 rejects it anyway).
  A value exactly at the basis earns nothing (and is covered).
- REJECT_BELOW `v < lower`, REJECT_ABOVE `v > upper` (strict: "staple < 27.0 rejects").
- PERCENT adjustments are percentages of the BASIS price (never compounded); ABSOLUTE ones are
  amounts per rate unit. All adjustments add up on the basis price, in exact arithmetic, and
  the adjusted price is rounded once, to 2 decimals. Line amounts are shown rounded to paise.
- A value that no rule of its parameter covers earns nothing and is listed in `not_covered`;
  a parameter the schedule has no rule for is ignored; a missing value earns nothing.
- A rejected lot has no adjusted price (`adjusted_price` is None); its lines still explain
  the other adjustments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from apps.commodities.conversions import MONEY_PLACES, exact, round_half_up
from apps.commodities.errors import ScheduleInvalid
from apps.commodities.models import AdjustmentKind, QualityParameter, QualitySchedule, RuleKind, ScheduleRule
from apps.commodities.quality import validate_quality

RATE_PLACES = 4


@dataclass(frozen=True)
class AdjustmentLine:
    parameter: str
    value: Decimal  # as compared: rounded to the parameter's reporting precision
    rule: str  # e.g. "28-28.4: -3%"
    adjustment_kind: str  # PERCENT or ABSOLUTE
    rate: Decimal  # the percent (or amount per rate unit) this value earns, to 4 decimals
    amount: Decimal  # per rate unit, rounded to paise for display
    rule_id: UUID | None = None


@dataclass(frozen=True)
class RejectReason:
    parameter: str
    value: Decimal
    rule: str


@dataclass(frozen=True)
class Adjustment:
    schedule_id: UUID
    schedule_version: int
    basis_price: Decimal
    adjusted_price: Decimal | None
    total_adjustment: Decimal  # exact sum of the lines, rounded once to paise
    lines: list[AdjustmentLine]
    rejected: bool
    reject_reasons: list[RejectReason]
    not_covered: list[str] = field(default_factory=list)


def rules_of(schedule: QualitySchedule) -> list[ScheduleRule]:
    """The schedule's rules with their parameters (uses a prefetch when there is one)."""
    return sorted(schedule.rules.all(), key=lambda r: (r.parameter.order, r.parameter.code, _sort_key(r)))


def _sort_key(rule: ScheduleRule) -> tuple[int, Decimal]:
    kinds = {RuleKind.REJECT_BELOW: 0, RuleKind.BAND: 1, RuleKind.RATIO: 1, RuleKind.REJECT_ABOVE: 2}
    edge = rule.lower if rule.lower is not None else rule.upper
    return kinds[RuleKind(rule.kind)], edge if edge is not None else Decimal(0)


def reporting_value(parameter: QualityParameter, value: Decimal) -> Decimal:
    """`value` rounded half-up to the parameter's reporting precision."""
    return value.quantize(Decimal(1).scaleb(-parameter.decimals), rounding=ROUND_HALF_UP)


def _rate(rule: ScheduleRule, value: Decimal) -> Fraction | None:
    """The percent/amount rule earns at `value`, or None when the rule does not cover it."""
    lower, upper, basis, step, earns = rule.lower, rule.upper, rule.basis, rule.step, rule.value
    if earns is None:
        raise ValueError(f"rule {rule.pk} has no value (the check constraint requires one)")
    if rule.kind == RuleKind.BAND:
        if (lower is None or value >= lower) and (upper is None or value <= upper):
            return Fraction(earns)
        return None
    if lower is None or upper is None or basis is None or step is None:
        raise ValueError(f"ratio rule {rule.pk} lacks its bounds, basis or step")
    if basis == lower:  # covers values above the basis, up to the limit `upper`
        if value <= basis:
            return None
        points = Fraction(min(value, upper)) - Fraction(basis)
    else:  # covers values below the basis, down to the limit `lower`
        if value >= basis:
            return None
        points = Fraction(basis) - Fraction(max(value, lower))
    return points / Fraction(step) * Fraction(earns)


def _rejects(rule: ScheduleRule, value: Decimal) -> bool:
    if rule.kind == RuleKind.REJECT_BELOW:
        return rule.lower is not None and value < rule.lower
    if rule.kind == RuleKind.REJECT_ABOVE:
        return rule.upper is not None and value > rule.upper
    return False


def price_adjustment(schedule: QualitySchedule, values: Mapping[str, Any], basis_price: Decimal) -> Adjustment:
    """Adjust `basis_price` (per the commodity's rate unit) for quality `values` by `schedule`.

    Values are validated against the commodity's parameters (QualityInvalid; mandatory ones may
    be left out). A float basis price or value is a TypeError.
    """
    basis = exact(basis_price, name="basis_price")
    if basis <= 0:
        raise ScheduleInvalid.for_field("basis_price", "The basis price must be positive.", code="invalid")
    cleaned = validate_quality(schedule.commodity, values, partial=True)
    lines: list[AdjustmentLine] = []
    reasons: list[RejectReason] = []
    not_covered: list[str] = []
    total = Fraction(0)
    by_parameter: dict[str, list[ScheduleRule]] = {}
    for rule in rules_of(schedule):
        by_parameter.setdefault(rule.parameter.code, []).append(rule)
    for code, rules in by_parameter.items():
        raw = cleaned.get(code)
        if not isinstance(raw, Decimal):
            continue
        value = reporting_value(rules[0].parameter, raw)
        covered = False
        for rule in rules:
            if _rejects(rule, value):
                covered = True
                reasons.append(RejectReason(parameter=code, value=value, rule=rule.describe()))
                continue
            if rule.kind not in (RuleKind.BAND, RuleKind.RATIO):
                continue  # a reject edge that does not reject
            if rule.kind == RuleKind.RATIO and value == rule.basis:
                covered = True  # exactly at the basis: nothing to earn, nothing to explain
                continue
            rate = _rate(rule, value)
            if rate is None:
                continue
            covered = True
            line_amount = basis * rate / 100 if rule.adjustment_kind == AdjustmentKind.PERCENT else rate
            total += line_amount
            lines.append(
                AdjustmentLine(
                    parameter=code,
                    value=value,
                    rule=rule.describe(),
                    adjustment_kind=rule.adjustment_kind,
                    rate=round_half_up(rate, RATE_PLACES),
                    amount=round_half_up(line_amount, MONEY_PLACES),
                    rule_id=rule.pk,
                )
            )
        if not covered:
            not_covered.append(code)
    rejected = bool(reasons)
    return Adjustment(
        schedule_id=schedule.pk,
        schedule_version=schedule.version,
        basis_price=basis_price,
        adjusted_price=None if rejected else round_half_up(basis + total, MONEY_PLACES),
        total_adjustment=round_half_up(total, MONEY_PLACES),
        lines=lines,
        rejected=rejected,
        reject_reasons=reasons,
        not_covered=not_covered,
    )


# --- Validation of a rule set (services call this before saving or activating) ----------------


@dataclass(frozen=True)
class _Interval:
    low: Decimal | None  # None: open
    low_inclusive: bool
    high: Decimal | None
    high_inclusive: bool
    rule: str


def _interval(rule: ScheduleRule) -> _Interval | None:
    """The values a band or ratio covers; reject edges cover nothing (they may overlap)."""
    if rule.kind == RuleKind.BAND:
        return _Interval(rule.lower, True, rule.upper, True, rule.describe())
    if rule.kind == RuleKind.RATIO:
        above = rule.basis == rule.lower
        return _Interval(rule.lower, not above, rule.upper, above, rule.describe())
    return None


def _overlap(a: _Interval, b: _Interval) -> bool:
    def below(x: _Interval, y: _Interval) -> bool:  # x lies entirely below y
        if x.high is None or y.low is None:
            return False
        return x.high < y.low or (x.high == y.low and not (x.high_inclusive and y.low_inclusive))

    return not (below(a, b) or below(b, a))


def rule_set_errors(rules: Iterable[ScheduleRule]) -> list[dict[str, str]]:
    """Overlapping bands/ratios of one parameter, and a parameter with two edges of one kind."""
    errors: list[dict[str, str]] = []
    by_parameter: dict[str, list[ScheduleRule]] = {}
    for rule in rules:
        by_parameter.setdefault(rule.parameter.code, []).append(rule)
    for code, group in by_parameter.items():
        intervals = [i for i in (_interval(r) for r in group) if i is not None]
        for index, first in enumerate(intervals):
            for second in intervals[index + 1 :]:
                if _overlap(first, second):
                    errors.append(
                        {
                            "attr": f"rules.{code}",
                            "code": "overlap",
                            "detail": f"{code}: '{first.rule}' and '{second.rule}' cover the same values.",
                        }
                    )
        for kind in (RuleKind.REJECT_BELOW, RuleKind.REJECT_ABOVE):
            if sum(1 for r in group if r.kind == kind) > 1:
                errors.append({"attr": f"rules.{code}", "code": "duplicate_edge", "detail": f"{code}: two {kind}."})
    return errors

"""What an offer's quality does to its price, for ranking: the commodity's active premium/discount
schedule, compiled once into arrays so a whole candidate set is priced in a few numpy operations.

The quality-adjusted price at the buyer's basis (per kg):

    basis B      the buyer's preferred price per rate unit (else its maximum): what the buyer pays
                 for a lot of the schedule's basis quality
    T            the schedule's total adjustment of the offer's quality on B (per rate unit, summed
                 exactly and rounded once to paise: `commodities.schedules.price_adjustment`)
    worth        B + T: what a lot of this quality is worth at the buyer's basis (SPEC section 5's
                 example: 28.2 mm, micronaire 4.85 on a basis of 60,000 is worth 58,020.00)
    adjusted     raw price per kg - T / rate-unit factor + freight per kg per km x distance

so a lot the schedule discounts compares dearer than its raw price, and one it pays a premium for
compares cheaper. A lot the schedule rejects is excluded (`quality:<param>:schedule_reject`).

`CompiledSchedule.evaluate` and `price_adjustment` agree: values are rounded half-up to each
parameter's reporting precision before they are compared, bands are inclusive, ratio rules count
points beyond the basis up to the limit, reject edges are strict, and T is rounded half-up to paise.
The stored price and the explanation of each kept proposal come from `price_adjustment` itself
(exact Decimal); the arrays only rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt

from apps.commodities.models import AdjustmentKind, QualitySchedule, RuleKind
from apps.commodities.schedules import rules_of

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Guards half-up rounding against binary representation (28.45 * 10 = 284.49999999999997).
_EPSILON = 1e-9


def round_half_up(values: FloatArray, decimals: int) -> FloatArray:
    """Non-negative values rounded half-up to `decimals` (NaN stays NaN)."""
    scale = 10.0**decimals
    rounded: FloatArray = np.floor(values * scale + 0.5 + _EPSILON) / scale
    return rounded


def round_money(values: FloatArray) -> FloatArray:
    """Signed amounts rounded half-up (ties away from zero) to paise."""
    magnitude = np.floor(np.abs(values) * 100 + 0.5 + 1e-7) / 100
    signed: FloatArray = np.sign(values) * magnitude
    return signed


@dataclass(frozen=True)
class _Rule:
    kind: str
    lower: float | None
    upper: float | None
    basis: float | None
    step: float | None
    value: float
    percent: bool


@dataclass(frozen=True)
class ScheduleEvaluation:
    percent: FloatArray  # summed percent adjustments of each candidate
    absolute: FloatArray  # summed amounts per rate unit
    rejected: dict[str, BoolArray]  # parameter code -> candidates a reject edge of it rejects

    def total(self, basis_per_rate_unit: float) -> FloatArray:
        """T per rate unit on the buyer's basis, rounded to paise as price_adjustment does."""
        return round_money(self.percent * basis_per_rate_unit / 100 + self.absolute)


@dataclass(frozen=True)
class CompiledSchedule:
    schedule_id: UUID
    version: int
    name: str
    parameters: dict[str, tuple[int, list[_Rule]]]  # code -> (reporting decimals, rules)
    source: QualitySchedule

    @classmethod
    def compile(cls, schedule: QualitySchedule) -> CompiledSchedule:
        def f(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        parameters: dict[str, tuple[int, list[_Rule]]] = {}
        for rule in rules_of(schedule):
            code = rule.parameter.code
            _, rules = parameters.setdefault(code, (rule.parameter.decimals, []))
            rules.append(
                _Rule(
                    kind=rule.kind,
                    lower=f(rule.lower),
                    upper=f(rule.upper),
                    basis=f(rule.basis),
                    step=f(rule.step),
                    value=float(rule.value or 0),
                    percent=rule.adjustment_kind == AdjustmentKind.PERCENT,
                )
            )
        return cls(schedule.pk, schedule.version, schedule.name, parameters, schedule)

    def evaluate(self, numeric: dict[str, FloatArray], size: int) -> ScheduleEvaluation:
        """Adjustments of `size` candidates whose numeric quality values (NaN: not stated) are
        given per parameter code."""
        percent = np.zeros(size)
        absolute = np.zeros(size)
        rejected: dict[str, BoolArray] = {}
        for code, (decimals, rules) in self.parameters.items():
            raw = numeric.get(code)
            if raw is None:
                continue
            value = round_half_up(raw, decimals)
            present = ~np.isnan(value)
            for rule in rules:
                if rule.kind == RuleKind.REJECT_BELOW and rule.lower is not None:
                    rejects = present & (value < rule.lower)
                    rejected[code] = rejected.get(code, np.zeros(size, dtype=bool)) | rejects
                    continue
                if rule.kind == RuleKind.REJECT_ABOVE and rule.upper is not None:
                    rejects = present & (value > rule.upper)
                    rejected[code] = rejected.get(code, np.zeros(size, dtype=bool)) | rejects
                    continue
                earned = _earned(rule, value, present)
                if rule.percent:
                    percent += earned
                else:
                    absolute += earned
        return ScheduleEvaluation(percent=percent, absolute=absolute, rejected=rejected)


def _earned(rule: _Rule, value: FloatArray, present: BoolArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        if rule.kind == RuleKind.BAND:
            covers = present.copy()
            if rule.lower is not None:
                covers &= value >= rule.lower
            if rule.upper is not None:
                covers &= value <= rule.upper
            earned: FloatArray = np.where(covers, rule.value, 0.0)
            return earned
        if rule.lower is None or rule.upper is None or rule.basis is None or not rule.step:
            raise ValueError("a ratio rule has its bounds, basis and step (a check constraint says so)")
        if rule.basis == rule.lower:  # above the basis, up to the limit
            covers = present & (value > rule.basis)
            points = np.minimum(value, rule.upper) - rule.basis
        else:  # below the basis, down to the limit
            covers = present & (value < rule.basis)
            points = rule.basis - np.maximum(value, rule.lower)
        earned = np.where(covers, points / rule.step * rule.value, 0.0)
        return earned


def explanation_of(adjustment: Any, *, rate_factor: Decimal) -> dict[str, Any]:
    """The schedule's line-by-line explanation (JSON-safe) of one `price_adjustment` result."""
    return {
        "schedule_id": str(adjustment.schedule_id),
        "schedule_version": adjustment.schedule_version,
        "basis_price": str(adjustment.basis_price),
        "worth_at_basis": None if adjustment.adjusted_price is None else str(adjustment.adjusted_price),
        "total_adjustment": str(adjustment.total_adjustment),
        "total_adjustment_per_kg": str((adjustment.total_adjustment / rate_factor).quantize(Decimal("0.0001"))),
        "lines": [
            {
                "parameter": line.parameter,
                "value": str(line.value),
                "rule": line.rule,
                "kind": line.adjustment_kind,
                "rate": str(line.rate),
                "amount": str(line.amount),
            }
            for line in adjustment.lines
        ],
        "not_covered": list(adjustment.not_covered),
    }

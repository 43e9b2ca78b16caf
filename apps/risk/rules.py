"""The rules of risk as pure functions of their inputs (no queries): utilisation levels, the
buyer/seller score and the recommended limit. SPEC section 11; the numbers that are
organization data (stage weights, the approval threshold) live in `RiskSettings`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.risk.models import CheckResult, UtilisationLevel

RULES_VERSION = "2026-12.1"

LEVEL_THRESHOLDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("1.00"), UtilisationLevel.CRITICAL),
    (Decimal("0.90"), UtilisationLevel.HIGH),
    (Decimal("0.75"), UtilisationLevel.MEDIUM),
    (Decimal("0.50"), UtilisationLevel.LOW),
)
LEVEL_RANK: dict[str, int] = {
    UtilisationLevel.NORMAL: 0,
    UtilisationLevel.LOW: 1,
    UtilisationLevel.MEDIUM: 2,
    UtilisationLevel.HIGH: 3,
    UtilisationLevel.CRITICAL: 4,
}
RESULT_RANK: dict[str, int] = {CheckResult.PASS: 0, CheckResult.WARN: 1, CheckResult.FAIL: 2}

PASS_SCORE = 80
WARN_SCORE = 60
CENT = Decimal("0.01")


def level_for(exposure: Decimal, credit_limit: Decimal) -> str:
    """The utilisation level of `exposure / credit_limit`. A zero limit with any exposure is
    CRITICAL; nothing booked is NORMAL."""
    if exposure <= 0:
        return UtilisationLevel.NORMAL
    if credit_limit <= 0:
        return UtilisationLevel.CRITICAL
    ratio = exposure / credit_limit
    for threshold, level in LEVEL_THRESHOLDS:
        if ratio >= threshold:
            return level
    return UtilisationLevel.NORMAL


def result_for(score: int) -> str:
    if score >= PASS_SCORE:
        return CheckResult.PASS
    if score >= WARN_SCORE:
        return CheckResult.WARN
    return CheckResult.FAIL


def worse(a: str, b: str) -> str:
    return a if RESULT_RANK[a] >= RESULT_RANK[b] else b


@dataclass(frozen=True)
class ScoreInputs:
    """What a buyer or seller check reads: the partner's limit and current weighted exposure,
    the amount the trade adds once weighted by its stage, and the partner's record."""

    side: str  # BUYER or SELLER
    credit_limit: Decimal
    exposure: Decimal
    amount: Decimal
    weighted_amount: Decimal
    rating: Decimal
    performance: Decimal  # payment (buyer) or delivery (seller), 0-100


def score_factors(inputs: ScoreInputs) -> list[dict[str, object]]:
    """The factors that cost points, each `{"code", "detail", "points"}` (points negative)."""
    factors: list[dict[str, object]] = []
    after = inputs.exposure + inputs.weighted_amount
    if after > inputs.credit_limit:
        factors.append(
            {
                "code": "exposure_over_limit",
                "detail": f"Exposure after this trade ({after.quantize(CENT)}) exceeds the credit limit "
                f"({inputs.credit_limit.quantize(CENT)}).",
                "points": -35,
            }
        )
    headroom = inputs.credit_limit - after
    if headroom < inputs.weighted_amount * Decimal("0.2"):
        factors.append(
            {
                "code": "low_headroom",
                "detail": f"Headroom after this trade ({headroom.quantize(CENT)}) is under 20% of its "
                f"weighted value ({inputs.weighted_amount.quantize(CENT)}).",
                "points": -15,
            }
        )
    if inputs.rating < Decimal("3.0"):
        factors.append({"code": "rating_low", "detail": f"Rating {inputs.rating} is below 3.0.", "points": -25})
    elif inputs.rating < Decimal("4.0"):
        factors.append({"code": "rating_below_par", "detail": f"Rating {inputs.rating} is below 4.0.", "points": -10})
    what = "payment" if inputs.side == "BUYER" else "delivery"
    if inputs.performance < 50:
        factors.append(
            {
                "code": f"{what}_performance_poor",
                "detail": f"{what.capitalize()} performance {inputs.performance}% is below 50%.",
                "points": -25,
            }
        )
    elif inputs.performance < 75:
        factors.append(
            {
                "code": f"{what}_performance_weak",
                "detail": f"{what.capitalize()} performance {inputs.performance}% is below 75%.",
                "points": -10,
            }
        )
    return factors


def score_of(factors: list[dict[str, object]]) -> int:
    return 100 + sum(int(f["points"]) for f in factors)  # type: ignore[call-overload]


def recommended_limit(credit_limit: Decimal, *, rating: Decimal, performance: Decimal) -> Decimal:
    """x1.2 for rating >= 4.5 and performance >= 90; x0.75 for rating < 3 or performance < 60;
    else unchanged. Shown to risk officers, never applied automatically. `performance` is the
    lower of payment and delivery performance."""
    if rating < Decimal("3") or performance < 60:
        factor = Decimal("0.75")
    elif rating >= Decimal("4.5") and performance >= 90:
        factor = Decimal("1.2")
    else:
        factor = Decimal("1")
    return (credit_limit * factor).quantize(CENT)


def counterparty_score(*, rating: Decimal, payment_performance: Decimal, delivery_performance: Decimal) -> int:
    """0-100: the rating on a 0-5 scale weighs half, the two performances a quarter each."""
    value = rating / Decimal(5) * 50 + payment_performance / 4 + delivery_performance / 4
    return max(0, min(100, int(value.to_integral_value())))

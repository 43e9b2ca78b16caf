"""The onboarding risk score (SPEC section 6): 0-100, starting at 50, and the approval route."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.partners.models import ApprovalRoute, BusinessType, FilingCompliance, RiskCategory

CRORE = Decimal("10000000")
LAKH = Decimal("100000")


@dataclass(frozen=True)
class RiskInputs:
    business_age_months: int | None
    business_type: str
    gst_turnover: Decimal | None
    filing_compliance: str
    has_quality_lab: bool
    has_own_transport: bool


@dataclass(frozen=True)
class RiskAssessment:
    score: int
    category: str
    route: str


def risk_score(inputs: RiskInputs) -> int:  # noqa: C901 (one flat score table, clearer as one function; split when partners is reshaped)
    score = 50
    age = inputs.business_age_months
    if age is not None:
        if age >= 60:
            score += 20
        elif age >= 24:
            score += 10
        elif age < 12:
            score -= 15
    if inputs.business_type in (BusinessType.PRIVATE_LIMITED, BusinessType.PUBLIC_LIMITED):
        score += 15
    elif inputs.business_type == BusinessType.PARTNERSHIP:
        score += 5
    elif inputs.business_type == BusinessType.PROPRIETORSHIP:
        score -= 5
    turnover = inputs.gst_turnover
    if turnover is not None:
        if turnover >= CRORE:
            score += 15
        elif turnover >= 50 * LAKH:
            score += 10
        elif turnover >= 10 * LAKH:
            score += 5
    if inputs.filing_compliance == FilingCompliance.GOOD:
        score += 10
    elif inputs.filing_compliance == FilingCompliance.POOR:
        score -= 25
    if inputs.has_quality_lab:
        score += 10
    if inputs.has_own_transport:
        score += 5
    return max(0, min(100, score))


def assess(inputs: RiskInputs) -> RiskAssessment:
    score = risk_score(inputs)
    if score >= 70:
        return RiskAssessment(score, RiskCategory.LOW, ApprovalRoute.DESK_MANAGER)
    if score >= 40:
        return RiskAssessment(score, RiskCategory.MEDIUM, ApprovalRoute.MANAGER)
    if score >= 20:
        return RiskAssessment(score, RiskCategory.HIGH, ApprovalRoute.DIRECTOR)
    return RiskAssessment(score, RiskCategory.CRITICAL, ApprovalRoute.DIRECTOR)

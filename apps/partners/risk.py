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


def risk_score(inputs: RiskInputs) -> int:
    """50, moved by each factor of SPEC section 6's table, within 0-100."""
    score = 50 + _age_points(inputs.business_age_months) + _type_points(inputs.business_type)
    score += _turnover_points(inputs.gst_turnover) + _filing_points(inputs.filing_compliance)
    score += (10 if inputs.has_quality_lab else 0) + (5 if inputs.has_own_transport else 0)
    return max(0, min(100, score))


def _age_points(months: int | None) -> int:
    if months is None:
        return 0
    if months >= 60:
        return 20
    if months >= 24:
        return 10
    return -15 if months < 12 else 0


_TYPE_POINTS: dict[str, int] = {
    BusinessType.PRIVATE_LIMITED: 15,
    BusinessType.PUBLIC_LIMITED: 15,
    BusinessType.PARTNERSHIP: 5,
    BusinessType.PROPRIETORSHIP: -5,
}


def _type_points(business_type: str) -> int:
    return _TYPE_POINTS.get(business_type, 0)


def _turnover_points(turnover: Decimal | None) -> int:
    if turnover is None:
        return 0
    if turnover >= CRORE:
        return 15
    if turnover >= 50 * LAKH:
        return 10
    return 5 if turnover >= 10 * LAKH else 0


_FILING_POINTS: dict[str, int] = {FilingCompliance.GOOD: 10, FilingCompliance.POOR: -25}


def _filing_points(compliance: str) -> int:
    return _FILING_POINTS.get(compliance, 0)


def assess(inputs: RiskInputs) -> RiskAssessment:
    score = risk_score(inputs)
    if score >= 70:
        return RiskAssessment(score, RiskCategory.LOW, ApprovalRoute.DESK_MANAGER)
    if score >= 40:
        return RiskAssessment(score, RiskCategory.MEDIUM, ApprovalRoute.MANAGER)
    if score >= 20:
        return RiskAssessment(score, RiskCategory.HIGH, ApprovalRoute.DIRECTOR)
    return RiskAssessment(score, RiskCategory.CRITICAL, ApprovalRoute.DIRECTOR)

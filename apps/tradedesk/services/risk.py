"""The trade desk's risk checks at posting time (SPEC section 11), through risk's services.

- Requirement publish: the buyer's credit must not be blocked (409 credit_blocked at CRITICAL
  utilisation); the buyer is assessed for the requirement's full value (max quantity x max price)
  at the POSTED stage; FAIL refuses (403 risk_failed with the factors; the transaction rolls back,
  so nothing is written); WARN and PASS are recorded (risk.assessment.recorded) and the value is
  booked as POSTED exposure against the requirement.
- Availability submit: the seller is assessed for the availability's value at the POSTED stage;
  FAIL refuses the same way, WARN is recorded.
- A requirement's exposure is released when it is cancelled (in that transaction), expired or
  fulfilled (risk's handlers of those events).

Lock order: the partner's credit row before the posting's row (`credit_lock_for_requirement`).
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from apps.risk.errors import RiskFailed
from apps.risk.models import Assessment, CheckResult, ExposureStage
from apps.risk.services.assessments import AssessmentContext, assess_buyer, assess_seller
from apps.risk.services.exposure import credit_ensure_not_blocked, credit_lock, exposure_book, exposure_release
from apps.tradedesk.models import Availability, Requirement

REQUIREMENT_SOURCE = "requirement"
AVAILABILITY_SOURCE = "availability"
CENT = Decimal("0.01")


def credit_lock_for_requirement(requirement_id: UUID) -> None:
    """Lock the buyer's credit row before the requirement's own lock (call inside the service's
    transaction). A requirement that does not exist locks nothing: its own lock answers 404."""
    partner_id = Requirement.objects.filter(pk=requirement_id).values_list("partner_id", flat=True).first()
    if partner_id is not None:
        credit_lock(partner_id=partner_id)


def requirement_value(requirement: Requirement) -> Decimal:
    return (Decimal(requirement.max_kg) * Decimal(requirement.max_price_per_kg)).quantize(CENT)


def availability_value(availability: Availability) -> Decimal:
    return (Decimal(availability.total_kg) * Decimal(availability.price_per_kg)).quantize(CENT)


def _refuse_on_fail(assessment: Assessment) -> Assessment:
    if assessment.result == CheckResult.FAIL:
        raise RiskFailed(score=assessment.score, factors=assessment.factors)
    return assessment


def requirement_risk_on_publish(requirement: Requirement) -> Assessment:
    """Check and book the buyer's risk for a requirement being published (in its transaction)."""
    credit_ensure_not_blocked(partner_id=requirement.partner_id)
    value = requirement_value(requirement)
    assessment = _refuse_on_fail(
        assess_buyer(
            partner_id=requirement.partner_id,
            amount=value,
            context=AssessmentContext(source_type=REQUIREMENT_SOURCE, source_id=requirement.pk),
            stage=ExposureStage.POSTED,
        )
    )
    if value > 0:
        exposure_book(
            partner_id=requirement.partner_id,
            stage=ExposureStage.POSTED,
            amount=value,
            source_type=REQUIREMENT_SOURCE,
            source_id=requirement.pk,
        )
    return assessment


def requirement_exposure_release(requirement: Requirement) -> None:
    exposure_release(source_type=REQUIREMENT_SOURCE, source_id=requirement.pk)


def availability_risk_on_submit(availability: Availability) -> Assessment:
    """Check the seller's risk for an availability being submitted (in its transaction)."""
    return _refuse_on_fail(
        assess_seller(
            partner_id=availability.partner_id,
            amount=availability_value(availability),
            context=AssessmentContext(source_type=AVAILABILITY_SOURCE, source_id=availability.pk),
            stage=ExposureStage.POSTED,
        )
    )

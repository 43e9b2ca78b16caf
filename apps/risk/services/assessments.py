"""Buyer and seller assessments (SPEC section 11).

A check scores from 100 down (`rules.score_factors`: exposure after the trade over the limit
-35, headroom under 20% of the value -15, rating < 3.0 -25 / < 4.0 -10, payment (buyer) or
delivery (seller) performance < 50 -25 / < 75 -10) and answers PASS (>= 80), WARN (>= 60) or
FAIL. With a counterparty in the context, the party links of the two (`selectors.party_check`)
are added as factors of 0 points, and the result is the worse of the two.

"Exposure after the trade" weighs the amount by its exposure stage (CONTRACTED, weight 1, by
default: the trade at full value). The trade desk assesses a posting at the POSTED stage
(weight 0 by default): a posting adds no exposure, so only the partner's current exposure,
rating and performance count then.

Internal: the callers (trade desk, matching, trades) checked their actor's rights. With
`record=True` the assessment is stored and risk.assessment.recorded emitted (in the caller's
transaction when there is one, else in its own); with `record=False` nothing is written
(matching scores many pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction

from apps.events.emit import emit
from apps.partners.models import BusinessPartner
from apps.risk import events
from apps.risk.errors import ExposureInvalid, PartnerNotFound
from apps.risk.models import Assessment, AssessmentSide, CheckResult, CreditAccount, ExposureStage, RiskSettings
from apps.risk.rules import RULES_VERSION, ScoreInputs, result_for, score_factors, score_of, worse
from apps.risk.selectors import party_check


@dataclass(frozen=True)
class AssessmentContext:
    """What is assessed: the source (a requirement, an availability, a negotiation, a trade) and,
    when known, the counterparty (its party links are checked)."""

    source_type: str = ""
    source_id: UUID | None = None
    counterparty_id: UUID | None = None


def _account_for(partner_id: UUID) -> CreditAccount:
    """The partner's credit row, or an unsaved one with its onboarding limit and the defaults
    (assessing writes no credit row)."""
    account = CreditAccount.objects.filter(partner_id=partner_id).first()
    if account is not None:
        return account
    partner = BusinessPartner.objects.filter(pk=partner_id).values("organization_id", "credit_limit").first()
    if partner is None:
        raise PartnerNotFound()
    return CreditAccount(
        partner_id=partner_id, organization_id=partner["organization_id"], credit_limit=partner["credit_limit"]
    )


def _settings_for(organization_id: UUID) -> RiskSettings:
    return RiskSettings.objects.filter(organization_id=organization_id).first() or RiskSettings(
        organization_id=organization_id
    )


def _assess(
    *, side: str, partner_id: UUID, amount: Decimal, context: AssessmentContext, record: bool, stage: str
) -> Assessment:
    if stage not in ExposureStage.values:
        raise ExposureInvalid("stage", "stage_invalid", f"The stage must be one of {', '.join(ExposureStage.values)}.")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise ExposureInvalid("amount", "amount_invalid", "The amount must be a decimal of at least 0.")
    account = _account_for(partner_id)
    settings = _settings_for(account.organization_id)
    weight = settings.weight(stage)
    performance = Decimal(account.payment_performance if side == AssessmentSide.BUYER else account.delivery_performance)
    inputs = ScoreInputs(
        side=side,
        credit_limit=Decimal(account.credit_limit),
        exposure=Decimal(account.exposure),
        amount=amount,
        weighted_amount=(amount * weight).quantize(Decimal("0.01")),
        rating=Decimal(account.rating),
        performance=performance,
    )
    factors: list[dict[str, Any]] = score_factors(inputs)
    score = score_of(factors)
    result = result_for(score)
    if context.counterparty_id is not None:
        links = party_check(partner_a_id=partner_id, partner_b_id=context.counterparty_id)
        factors += [{"code": f["code"], "detail": f["detail"], "points": 0} for f in links.factors]
        result = worse(result, links.result)
    assessment = Assessment(
        organization_id=account.organization_id,
        partner_id=partner_id,
        side=side,
        amount=amount,
        stage=stage,
        counterparty_id=context.counterparty_id,
        source_type=context.source_type,
        source_id=context.source_id,
        result=result,
        score=score,
        factors=factors,
        inputs={
            "credit_limit": str(inputs.credit_limit),
            "exposure": str(inputs.exposure),
            "amount": str(amount),
            "stage": stage,
            "stage_weight": str(weight),
            "weighted_amount": str(inputs.weighted_amount),
            "rating": str(inputs.rating),
            "performance": str(performance),
        },
        rules_version=RULES_VERSION,
    )
    if record:
        with transaction.atomic():
            assessment.save()
            emit(
                events.ASSESSMENT_RECORDED,
                aggregate=assessment,
                partner_id=partner_id,
                payload={
                    "assessment_id": str(assessment.pk),
                    "partner_id": str(partner_id),
                    "side": side,
                    "result": result,
                    "score": score,
                    "codes": [f["code"] for f in factors],
                    "source_type": context.source_type,
                    "source_id": str(context.source_id) if context.source_id else None,
                },
            )
    return assessment


def assess_buyer(
    *,
    partner_id: UUID,
    amount: Decimal,
    context: AssessmentContext,
    record: bool = True,
    stage: str = ExposureStage.CONTRACTED,
) -> Assessment:
    """PASS / WARN / FAIL of the partner buying `amount` (payment performance counts)."""
    return _assess(
        side=AssessmentSide.BUYER, partner_id=partner_id, amount=amount, context=context, record=record, stage=stage
    )


def assess_seller(
    *,
    partner_id: UUID,
    amount: Decimal,
    context: AssessmentContext,
    record: bool = True,
    stage: str = ExposureStage.CONTRACTED,
) -> Assessment:
    """PASS / WARN / FAIL of the partner selling `amount` (delivery performance counts)."""
    return _assess(
        side=AssessmentSide.SELLER, partner_id=partner_id, amount=amount, context=context, record=record, stage=stage
    )


__all__ = ["AssessmentContext", "CheckResult", "assess_buyer", "assess_seller"]

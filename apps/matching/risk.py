"""The risk filter of matching, in one place: what apps.risk says about a pair (SPEC section 8:
FAIL excludes, WARN halves the risk component and multiplies the score by 0.9).

Two questions, each asked once per partner in a matching run (the engine caches the answers):

- `party_checks(partner_id, other_ids)`: party links between the posting's partner and each
  counterparty (risk.selectors.party_check_many: same PAN/GSTIN FAIL; same mobile or company
  e-mail domain WARN), two queries whatever the number of counterparties;
- `assessment(side, partner_id, amount)`: the buyer's or seller's own assessment
  (risk.services.assessments, not recorded) for a trade of `amount` at the MATCHED exposure
  stage: the organization's risk settings weigh a proposed match (by default less than a
  contract), so a partner already at its limit, badly rated or performing poorly fails or warns,
  while the exposure of the trade itself is checked for good when a negotiation is accepted.
  Matching uses one amount per pair: the requirement's largest trade, max kg x max price per kg.

`standings(side, partner_ids)` + `result_of(standing, amount)` answer the same as `assessment`
for many partners and amounts: the credit rows and risk settings read once (three queries), the
score from risk's own rules (risk.rules.score_factors, score_of, result_for) for each amount.
The sweep asks it for thousands of (partner, amount) pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from apps.partners.models import BusinessPartner
from apps.risk.models import AssessmentSide, CreditAccount, ExposureStage, RiskSettings
from apps.risk.rules import ScoreInputs, result_for, score_factors, score_of
from apps.risk.selectors import party_check_many
from apps.risk.services.assessments import AssessmentContext, assess_buyer, assess_seller

PASS = "PASS"
WARN = "WARN"
FAIL = "FAIL"
BUYER = "buyer"
SELLER = "seller"

_ORDER = {PASS: 0, WARN: 1, FAIL: 2}


def worst(*results: str) -> str:
    return max(results, key=lambda result: _ORDER[result])


def party_checks(partner_id: UUID, other_ids: Iterable[UUID]) -> dict[UUID, str]:
    """PASS / WARN / FAIL of the party links between `partner_id` and each of `other_ids` (an
    unknown partner links to nothing: PASS)."""
    wanted = list(other_ids)
    checks = party_check_many(partner_id=partner_id, other_ids=wanted)
    return {other: checks[other].result if other in checks else PASS for other in wanted}


def assessment(side: str, partner_id: UUID, amount: Decimal) -> str:
    """PASS / WARN / FAIL of the buyer's or seller's assessment for a trade of `amount`."""
    assess = assess_buyer if side == BUYER else assess_seller
    return str(
        assess(
            partner_id=partner_id,
            amount=amount,
            context=AssessmentContext(source_type="matching"),
            record=False,
            stage=ExposureStage.MATCHED,
        ).result
    )


@dataclass(frozen=True)
class Standing:
    """What an assessment of one partner reads, but the side's performance choice and the amount."""

    credit_limit: Decimal
    exposure: Decimal
    rating: Decimal
    payment_performance: Decimal  # counts when it buys
    delivery_performance: Decimal  # counts when it sells
    weight: Decimal  # the MATCHED stage's weight in the organization's risk settings


def standings(partner_ids: Iterable[UUID]) -> dict[UUID, Standing]:
    """The standing of each known partner as risk's assessment reads it: its credit row, else its
    onboarding limit with the defaults; its organization's risk settings (three queries)."""
    wanted = list(dict.fromkeys(partner_ids))
    accounts = {a.partner_id: a for a in CreditAccount.objects.filter(partner_id__in=wanted)}
    for row in BusinessPartner.objects.filter(pk__in=[p for p in wanted if p not in accounts]).values(
        "pk", "organization_id", "credit_limit"
    ):
        accounts[row["pk"]] = CreditAccount(
            partner_id=row["pk"], organization_id=row["organization_id"], credit_limit=row["credit_limit"]
        )
    organizations = {a.organization_id for a in accounts.values()}
    settings = {s.organization_id: s for s in RiskSettings.objects.filter(organization_id__in=organizations)}
    result = {}
    for partner_id, account in accounts.items():
        setting = settings.get(account.organization_id) or RiskSettings(organization_id=account.organization_id)
        result[partner_id] = Standing(
            credit_limit=Decimal(account.credit_limit),
            exposure=Decimal(account.exposure),
            rating=Decimal(account.rating),
            payment_performance=Decimal(account.payment_performance),
            delivery_performance=Decimal(account.delivery_performance),
            weight=setting.weight(ExposureStage.MATCHED),
        )
    return result


def result_of(standing: Standing, side: str, amount: Decimal) -> str:
    """PASS / WARN / FAIL of `assessment(side, partner, amount)` from the partner's standing."""
    buying = side == BUYER
    inputs = ScoreInputs(
        side=AssessmentSide.BUYER if buying else AssessmentSide.SELLER,
        credit_limit=standing.credit_limit,
        exposure=standing.exposure,
        amount=amount,
        weighted_amount=(amount * standing.weight).quantize(Decimal("0.01")),
        rating=standing.rating,
        performance=standing.payment_performance if buying else standing.delivery_performance,
    )
    return str(result_for(score_of(score_factors(inputs))))

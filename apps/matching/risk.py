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
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from uuid import UUID

from apps.risk.models import ExposureStage
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

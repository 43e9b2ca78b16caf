"""Both parties' exposure, through risk's services (SPEC sections 10 and 11), in one place.

Source types: "negotiation" (stage NEGOTIATING, booked for the buyer when a negotiation starts)
and "trade" (stage CONTRACTED at accept, DELIVERED_UNBILLED on delivery, released when the trade
is completed or cancelled). A trade books exposure for both sides under the one source (SPEC 10):
the buyer's within its limit (the credit check that can refuse the accept), the seller's as
booked (its limit does not gate a sale; its utilisation and alerts show the desk how much it has
yet to deliver). Moves, resizes and releases act on both entries, since risk applies them to every
open entry of the source. Every call runs in the caller's transaction and is idempotent per
(source type, source id) on risk's side.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.risk.locks import lock_credit_accounts
from apps.risk.models import ExposureStage
from apps.risk.services import exposure as risk

NEGOTIATION = "negotiation"
TRADE = "trade"


def ensure_buyer_not_blocked(partner_id: Any) -> None:
    """409 credit_blocked when risk has blocked the buyer's new buying."""
    risk.credit_ensure_not_blocked(partner_id=partner_id)


def book_negotiation(*, buyer_id: Any, negotiation_id: Any, amount: Decimal) -> None:
    risk.exposure_book(
        partner_id=buyer_id,
        stage=ExposureStage.NEGOTIATING,
        amount=amount,
        source_type=NEGOTIATION,
        source_id=negotiation_id,
    )


def resize_negotiation(*, negotiation_id: Any, amount: Decimal) -> None:
    risk.exposure_resize(source_type=NEGOTIATION, source_id=negotiation_id, amount=amount, within_limit=False)


def release_negotiation(*, negotiation_id: Any) -> None:
    risk.exposure_release(source_type=NEGOTIATION, source_id=negotiation_id)


def reserve_trade_within_limit(*, buyer_id: Any, seller_id: Any, trade_id: Any, amount: Decimal) -> None:
    """Book the trade for both parties. Locks both credit rows first, in partner-id order (risk's
    lock order: two trades between the same two partners in opposite roles must not deadlock),
    then reserves the buyer's share within its limit (409 credit_limit_exceeded rolls the
    caller's transaction back) and books the seller's."""
    lock_credit_accounts([buyer_id, seller_id])
    risk.exposure_reserve_within_limit(
        partner_id=buyer_id, stage=ExposureStage.CONTRACTED, amount=amount, source_type=TRADE, source_id=trade_id
    )
    risk.exposure_book(
        partner_id=seller_id, stage=ExposureStage.CONTRACTED, amount=amount, source_type=TRADE, source_id=trade_id
    )


def resize_trade(*, trade_id: Any, buyer_id: Any, amount: Decimal, within_limit: bool) -> None:
    """Resize both parties' entries; only the buyer's limit can refuse an increase."""
    risk.exposure_resize(
        source_type=TRADE, source_id=trade_id, amount=amount, within_limit=within_limit, limit_partner_id=buyer_id
    )


def trade_delivered(*, trade_id: Any) -> None:
    risk.exposure_move(source_type=TRADE, source_id=trade_id, to_stage=ExposureStage.DELIVERED_UNBILLED)


def release_trade(*, trade_id: Any) -> None:
    risk.exposure_release(source_type=TRADE, source_id=trade_id)

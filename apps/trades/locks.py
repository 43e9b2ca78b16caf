"""Row locks of negotiations and trades, in one place.

The order every trades service follows (and the trade desk's and risk's within it):

    negotiation -> trade -> availability -> both parties' credit rows (risk, in partner-id order) -> requirement -> reservation

The negotiation (or trade) row comes first: it serialises everything done to one bargain, so
two accepts of the same negotiation queue there, and nothing else is locked until it is held.
Then the availability (the reservation and the sale lock it, then the reservation), the buyer's
credit row (risk's exposure check), and the requirement (its fulfilment)."""

from __future__ import annotations

from uuid import UUID

from apps.trades.errors import AmendmentNotFound, NegotiationNotFound, TradeNotFound
from apps.trades.models import Negotiation, Trade, TradeAmendment


def lock_negotiation(negotiation_id: UUID) -> Negotiation:
    """SELECT ... FOR UPDATE of the negotiation alone (no joined rows locked)."""
    negotiation = Negotiation.objects.select_for_update(of=("self",)).filter(pk=negotiation_id).first()
    if negotiation is None:
        raise NegotiationNotFound()
    return negotiation


def lock_trade(trade_id: UUID) -> Trade:
    trade = Trade.objects.select_for_update(of=("self",)).filter(pk=trade_id).first()
    if trade is None:
        raise TradeNotFound()
    return trade


def lock_amendment(amendment_id: UUID) -> TradeAmendment:
    amendment = TradeAmendment.objects.select_for_update(of=("self",)).filter(pk=amendment_id).first()
    if amendment is None:
        raise AmendmentNotFound()
    return amendment

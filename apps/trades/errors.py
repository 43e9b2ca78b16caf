"""Refusals of negotiations and trades, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from typing import Any

from apps.core.errors import Conflict, DomainError, NotFound
from apps.tradedesk.errors import PostingInvalid


class NegotiationNotFound(NotFound):
    code = "negotiation_not_found"
    default_detail = "No such negotiation."


class TradeNotFound(NotFound):
    code = "trade_not_found"
    default_detail = "No such trade."


class AmendmentNotFound(NotFound):
    code = "amendment_not_found"
    default_detail = "No such amendment."


class NotAParty(DomainError):
    """403: the caller acts for neither side (a third partner is told 404 by the lookup first)."""

    code = "not_a_party"
    status = 403
    default_detail = "Only the buyer, the seller or the desk on their behalf may do this."


class NegotiationClosed(Conflict):
    code = "negotiation_closed"
    default_detail = "The negotiation is closed."

    def __init__(self, status: str) -> None:
        super().__init__(f"The negotiation is {status}; nothing more can be done in it.", extra={"status": status})


class NegotiationExists(Conflict):
    code = "negotiation_exists"
    default_detail = "An open negotiation already exists for this match."

    def __init__(self, negotiation_id: Any) -> None:
        super().__init__(extra={"negotiation_id": str(negotiation_id)})


class NotYourTurn(Conflict):
    code = "not_your_turn"
    default_detail = "The other side has the next offer."


class NoOpenOffer(Conflict):
    code = "no_open_offer"
    default_detail = "There is no offer on the table to accept."


class OwnOffer(Conflict):
    code = "own_offer"
    default_detail = "A party cannot accept its own offer."


class MaxRoundsReached(Conflict):
    code = "max_rounds_reached"
    default_detail = "The negotiation has used all its rounds: accept or reject the last offer."


class OfferInvalid(DomainError):
    """400: an offer breaks a rule; `errors` lists every field at once."""

    code = "offer_invalid"
    status = 400
    default_detail = "The offer is invalid."


class MessageInvalid(DomainError):
    code = "message_invalid"
    status = 400
    default_detail = "The message is invalid."


class PartnerMayNotTrade(DomainError):
    """403: a party may not trade now (not active, KYC not valid, capability missing)."""

    status = 403
    code = "partner_may_not_trade"


class TradeInvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, *, action: str, current: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"Cannot {action}: the trade is {current}; it must be {' or '.join(allowed)}.",
            extra={"current_state": current, "allowed_states": list(allowed)},
        )


class WrongSide(DomainError):
    """403: this step belongs to the other side (the seller ships, the buyer confirms delivery)."""

    code = "wrong_side"
    status = 403


class BranchSelectionInvalid(DomainError):
    code = "branch_invalid"
    status = 400
    default_detail = "The branch cannot be used for this trade."


class AmendmentInvalid(DomainError):
    code = "amendment_invalid"
    status = 400
    default_detail = "The amendment is invalid."


class AmendmentPending(Conflict):
    code = "amendment_pending"
    default_detail = "Another amendment of this trade awaits a decision."


class AmendmentNotPending(Conflict):
    code = "amendment_not_pending"
    default_detail = "The amendment was decided already."


class OwnAmendment(Conflict):
    code = "own_amendment"
    default_detail = "The counterparty decides an amendment, not the side that asked for it."


class CancelReasonRequired(DomainError):
    code = "reason_required"
    status = 400
    default_detail = "A reason is required."


class OfferFieldInvalid(PostingInvalid):
    """One field of an offer (the trade desk's input primitives raise it); collected into
    OfferInvalid so every field error is answered at once."""

    code = "offer_invalid"

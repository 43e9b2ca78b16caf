"""Trades (SPEC section 10): made by accepting a negotiation, then moved through their status
machine, their branches picked, and cancelled (reversing what was not delivered).

Lock order (every service here, and what it calls, takes locks in this order):

    negotiation -> trade -> amendment -> availability (then its reservation)
                -> both parties' credit rows (risk, partner-id order) -> requirement

`negotiation_accept` holds the negotiation, then locks the availability itself before anything
else of the trade desk, then risk's exposure check locks both parties' credit rows, then the
requirement's fulfilment locks the requirement. Two accepts racing for the same bales queue on
the availability; two trades racing for one buyer's headroom queue on its credit row.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.commodities.conversions import exact, round_half_up
from apps.commodities.models import CommissionBasis, CommissionParty, CommissionStructure, TradeTerm
from apps.core.errors import DomainError
from apps.events.emit import emit
from apps.organizations.models import DocumentType
from apps.organizations.services.numbering import next_document_number
from apps.partners.models import Branch, BranchType, BusinessPartner
from apps.tradedesk.errors import InsufficientQuantity, InvalidTransition
from apps.tradedesk.inputs import dec
from apps.tradedesk.locks import lock_availability
from apps.tradedesk.models import Availability, AvailabilityStatus
from apps.tradedesk.services import requirements as desk_requirements
from apps.tradedesk.services import reservations as desk
from apps.trades import events
from apps.trades import exposure as exposure_of
from apps.trades.errors import (
    BranchSelectionInvalid,
    CancelReasonRequired,
    NoOpenOffer,
    OwnOffer,
    TradeInvalidTransition,
    WrongSide,
)
from apps.trades.gst import amount_of, gst_lines, gst_state
from apps.trades.locks import lock_negotiation, lock_trade
from apps.trades.models import (
    Negotiation,
    NegotiationStatus,
    Offer,
    OfferStatus,
    PartnerTradeProfile,
    Side,
    TaxKind,
    Trade,
    TradeStatus,
)
from apps.trades.permissions import (
    MANAGE_TRADE,
    NEGOTIATE_FOR_PARTNER,
    acting_side,
    ensure_desk,
    ensure_side_may_trade,
)
from apps.trades.services.negotiations import (
    OWNER_TYPE,
    PURPOSE,
    _open_for_step,
    _system_message,
    emit_negotiation_event,
    offer_payload,
)

DEFAULT_TRADE_TYPE = "SPOT"
REASON_MAX_LENGTH = 500
DESK = "DESK"

PENDING = TradeStatus.PENDING_BRANCH_SELECTION
CONFIRMED = TradeStatus.CONFIRMED
IN_TRANSIT = TradeStatus.IN_TRANSIT
DELIVERED = TradeStatus.DELIVERED
COMPLETED = TradeStatus.COMPLETED
DISPUTED = TradeStatus.DISPUTED
CANCELLED = TradeStatus.CANCELLED
FINAL_STATES = (COMPLETED, CANCELLED)
DISPUTABLE = (CONFIRMED, IN_TRANSIT, DELIVERED)

# (from, to) -> who moves it: a side (the seller ships, the buyer confirms delivery) or the desk.
STEPS: dict[tuple[str, str], tuple[str, ...]] = {
    (CONFIRMED, IN_TRANSIT): (Side.SELLER,),
    (IN_TRANSIT, DELIVERED): (Side.BUYER,),
    (DELIVERED, COMPLETED): (DESK,),
    **{(state, DISPUTED): (Side.BUYER, Side.SELLER, DESK) for state in DISPUTABLE},
    **{(DISPUTED, state): (DESK,) for state in DISPUTABLE},
}


# --- snapshots ------------------------------------------------------------------------------------


def party_snapshot(partner: BusinessPartner) -> dict[str, Any]:
    return {
        "id": str(partner.pk),
        "code": partner.code,
        "legal_name": partner.legal_name,
        "trade_name": partner.trade_name,
        "pan": partner.pan,
        "gstin": partner.gstin,
        "address_line1": partner.address_line1,
        "city": partner.city,
        "state_code": partner.state_code,
        "pincode": partner.pincode,
        "contact_name": partner.contact_name,
        "contact_phone": partner.contact_phone,
    }


def branch_snapshot(branch: Branch | None, partner: BusinessPartner) -> dict[str, Any]:
    if branch is None:
        return {}
    return {
        "branch_id": str(branch.pk),
        "code": branch.code,
        "name": branch.name,
        "address_line1": branch.address_line1,
        "city": branch.city,
        "state_code": gst_state(branch.state_code),
        "pincode": branch.pincode,
        "gstin": branch.gstin or partner.gstin,
    }


def _only(branches: list[Branch]) -> Branch | None:
    return branches[0] if len(branches) == 1 else None


def pick_branches(buyer: BusinessPartner, seller: BusinessPartner, availability: Availability) -> dict[str, Any]:
    """Ship-from: the availability's branch, else the seller's default ship-from, else its only
    branch that can send. Ship-to: the buyer's default ship-to, else its only branch that can
    receive. Bill-to: the buyer's head office, else its ship-to. None where a party has several
    candidates and no default (the trade waits in PENDING_BRANCH_SELECTION)."""
    branches = list(Branch.objects.filter(partner__in=(buyer.pk, seller.pk), is_active=True).order_by("code"))
    mine = [b for b in branches if b.partner_id == buyer.pk]
    theirs = [b for b in branches if b.partner_id == seller.pk]
    ship_from = availability.ship_from_branch if availability.ship_from_branch_id else None
    ship_from = ship_from or next((b for b in theirs if b.is_default_ship_from), None)
    ship_from = ship_from or _only([b for b in theirs if b.can_send])
    ship_to = next((b for b in mine if b.is_default_ship_to), None) or _only([b for b in mine if b.can_receive])
    head_office = next((b for b in mine if b.branch_type == BranchType.HEAD_OFFICE), None)
    return {"ship_from_branch": ship_from, "ship_to_branch": ship_to, "bill_to_branch": head_office or ship_to}


def is_agriculturist(partner_id: Any) -> bool:
    """The seller supplies as an agriculturist (trades' own per-partner row; partners has no such
    attribute). Its supplies are under reverse charge."""
    return PartnerTradeProfile.objects.filter(partner_id=partner_id, is_agriculturist=True).exists()


def apply_value(trade: Trade) -> None:
    """Amount, GST lines, total and commission from the trade's quantity, price, branches and
    commodity rate (in memory; the caller saves)."""
    trade.amount = amount_of(
        quantity_kg=trade.quantity_kg, price=trade.price, price_unit_factor=trade.price_unit_factor
    )
    lines = gst_lines(
        amount=trade.amount,
        rate=trade.gst_rate,
        bill_to_state=trade.bill_to.get("state_code", ""),
        ship_from_state=trade.ship_from.get("state_code", ""),
    )
    known = bool(trade.bill_to) and bool(trade.ship_from)
    trade.tax_kind = (TaxKind.INTRA_STATE if lines.intra_state else TaxKind.INTER_STATE) if known else ""
    trade.place_of_supply = lines.place_of_supply
    trade.cgst_rate, trade.sgst_rate, trade.igst_rate = lines.cgst_rate, lines.sgst_rate, lines.igst_rate
    trade.cgst_amount, trade.sgst_amount, trade.igst_amount = lines.cgst_amount, lines.sgst_amount, lines.igst_amount
    trade.tax_amount = lines.tax_amount
    trade.total_amount = trade.amount + trade.tax_amount
    trade.commission, trade.commission_amount = commission_of(trade)


def commission_of(trade: Trade) -> tuple[dict[str, Any], Decimal]:
    """The commodity's active commission structures for the trade type (SPOT unless the terms
    say otherwise): PERCENTAGE of the amount, or FIXED per unit of quantity; per party it
    applies to (BOTH: each side pays it). No structure: nothing."""
    trade_type = trade.terms_snapshot.get("trade_type") or DEFAULT_TRADE_TYPE
    structures = list(
        CommissionStructure.objects.select_related("unit", "trade_type").filter(
            commodity_id=trade.commodity_id, trade_type__code=trade_type, is_active=True
        )
    )
    lines: list[dict[str, Any]] = []
    total = Decimal("0.00")
    for structure in sorted(structures, key=lambda s: s.applies_to):
        if structure.basis == CommissionBasis.PERCENTAGE:
            each = round_half_up(exact(trade.amount) * exact(structure.rate) / 100, 2)
        else:
            unit = structure.unit
            assert unit is not None  # the check constraint says so
            each = round_half_up(exact(trade.quantity_kg) / exact(unit.factor_to_kg) * exact(structure.rate), 2)
        parties: list[str] = (
            [Side.BUYER, Side.SELLER] if structure.applies_to == CommissionParty.BOTH else [structure.applies_to]
        )
        for party in parties:
            lines.append(
                {
                    "structure_id": str(structure.pk),
                    "basis": structure.basis,
                    "rate": dec(structure.rate, 4),
                    "unit": structure.unit.code if structure.unit else None,
                    "payable_by": party,
                    "amount": dec(each, 2),
                }
            )
            total += each
    return {
        "trade_type": trade_type,
        "broker_id": str(trade.broker_id) if trade.broker_id else None,
        "lines": lines,
    }, total


def trade_payload(trade: Trade) -> dict[str, Any]:
    return {
        "trade_id": str(trade.pk),
        "number": trade.number,
        "status": trade.status,
        "negotiation_id": str(trade.negotiation_id),
        "buyer_id": str(trade.buyer_id),
        "seller_id": str(trade.seller_id),
        "availability_id": str(trade.availability_id),
        "requirement_id": str(trade.requirement_id),
        "quantity_kg": dec(trade.quantity_kg, 3),
        "delivered_kg": dec(trade.delivered_kg, 3),
        "price": dec(trade.price, 2),
        "price_per_kg": dec(trade.price_per_kg, 4),
        "amount": dec(trade.amount, 2),
        "tax_amount": dec(trade.tax_amount, 2),
        "total_amount": dec(trade.total_amount, 2),
        "tax_kind": trade.tax_kind,
    }


def emit_trade_event(event_type: str, trade: Trade, actor: User | None, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=trade,
        actor=actor,
        organization_id=trade.organization_id,
        # Both sides get it in their feeds and webhooks, as they hear it live (trades.realtime).
        parties=(trade.buyer_id, trade.seller_id),
        payload={**trade_payload(trade), **extra},
    )


# --- accept -> trade ------------------------------------------------------------------------------


def _hold_for_accept(negotiation: Negotiation, offer: Offer, actor: User) -> UUID:
    """The reservation of exactly the agreed quantity: the negotiation's own, resized if need
    be, or (when it is gone: released by the desk's safety net, the availability cancelled) a new
    one, which fails cleanly (409 insufficient_quantity) when the bales have gone."""
    reservation = negotiation.reservation
    if reservation is not None and reservation.status == "ACTIVE":
        if reservation.quantity_kg != offer.quantity_kg:
            desk.reservation_resize(reservation_id=reservation.pk, quantity_kg=offer.quantity_kg, actor=actor)
        return reservation.pk
    try:
        fresh = desk.availability_reserve(
            availability_id=negotiation.availability_id,
            quantity_kg=offer.quantity_kg,
            purpose=PURPOSE,
            reference=str(negotiation.pk),
            buyer_id=negotiation.buyer_id,
            actor=actor,
            owner_type=OWNER_TYPE,
            owner_id=negotiation.pk,
            expires_at=negotiation.expires_at,
        )
    except InvalidTransition as refusal:
        if refusal.extra.get("current_state") != AvailabilityStatus.SOLD:
            raise
        raise InsufficientQuantity("The availability is sold out.", extra={"available_kg": "0.000"}) from None
    negotiation.reservation = fresh
    return fresh.pk


def negotiation_accept(*, actor: User, negotiation_id: UUID, on_behalf_of: UUID | None = None) -> Trade:
    """Accept the other side's open offer and make the trade, in ONE transaction.

    Locks, in this order: the negotiation; the availability (locked here before the trade desk
    is called, then its reservation); both parties' credit rows (risk's exposure check); the
    requirement (its fulfilment). Steps: convert the reservation for the agreed quantity (409
    insufficient_quantity when the bales are gone), release the negotiation's exposure and
    reserve the trade's at stage CONTRACTED within the buyer's limit (409
    credit_limit_exceeded) and book the seller's, create the numbered trade with its snapshots, GST and commission,
    sell the quantity, record the requirement's fulfilment (409 fulfilment_exceeds_max), close
    the negotiation ACCEPTED. Any refusal rolls everything back: the negotiation stays
    IN_PROGRESS with its reservation and exposure as they were.

    Other refusals: 409 negotiation_closed, 409 no_open_offer, 409 own_offer (a party accepts
    the other side's offer), 403 for a caller who may not act or a party that may not trade.
    Emits trades.negotiation.accepted and trades.trade.created."""
    with transaction.atomic():
        lock_negotiation(negotiation_id)
        negotiation = (
            Negotiation.objects.select_related("buyer", "seller", "reservation", "requirement")
            .filter(pk=negotiation_id)
            .get()
        )
        side = acting_side(
            actor,
            organization_id=negotiation.organization_id,
            buyer=negotiation.buyer,
            seller=negotiation.seller,
            staff_perm=NEGOTIATE_FOR_PARTNER,
            on_behalf_of=on_behalf_of,
        )
        now = timezone.now()
        _open_for_step(negotiation, now)
        offer = (
            Offer.objects.select_related("price_unit", "quantity_unit", "delivery_term", "payment_term")
            .filter(negotiation=negotiation, status=OfferStatus.OPEN)
            .first()
        )
        if offer is None:
            raise NoOpenOffer()
        if offer.side == side:
            raise OwnOffer()
        ensure_side_may_trade(negotiation.buyer, Side.BUYER)
        ensure_side_may_trade(negotiation.seller, Side.SELLER)
        lock_availability(negotiation.availability_id)
        availability = Availability.objects.select_related("commodity", "variety", "ship_from_branch").get(
            pk=negotiation.availability_id
        )
        reservation_id = _hold_for_accept(negotiation, offer, actor)
        trade = _build_trade(negotiation, offer, availability)
        exposure_of.release_negotiation(negotiation_id=negotiation.pk)
        exposure_of.reserve_trade_within_limit(
            buyer_id=negotiation.buyer_id,
            seller_id=negotiation.seller_id,
            trade_id=trade.pk,
            amount=trade.total_amount,
        )
        desk.availability_sell(reservation_id=reservation_id, actor=actor)
        desk_requirements.requirement_record_fulfilment(
            requirement_id=negotiation.requirement_id,
            quantity_kg=trade.quantity_kg,
            reference=str(trade.pk),
            actor=actor,
        )
        trade.number = next_document_number(
            organization=negotiation.organization_id, doc_type=DocumentType.TRADE, on_date=timezone.localdate(now)
        )
        trade.status_changed_at = now
        trade.save(force_insert=True)
        offer.status = OfferStatus.ACCEPTED
        offer.save(update_fields=["status", "updated_at"])
        negotiation.status = NegotiationStatus.ACCEPTED
        negotiation.closed_at, negotiation.closed_by, negotiation.next_side = now, actor, ""
        negotiation.save(update_fields=["status", "closed_at", "closed_by", "next_side", "reservation", "updated_at"])
        _system_message(
            negotiation, f"Offer of round {offer.round} accepted by the {side.lower()}: trade {trade.number}."
        )
        emit_negotiation_event(
            events.NEGOTIATION_ACCEPTED,
            negotiation,
            actor,
            side=side,
            offer=offer_payload(offer),
            trade_id=str(trade.pk),
            trade_number=trade.number,
        )
        emit_trade_event(events.TRADE_CREATED, trade, actor)
    return trade


def _build_trade(negotiation: Negotiation, offer: Offer, availability: Availability) -> Trade:
    """The trade an accepted offer makes (unsaved, with its id, value and snapshots)."""
    buyer, seller = negotiation.buyer, negotiation.seller
    picked = pick_branches(buyer, seller, availability)
    commodity = availability.commodity
    terms = {
        "trade_type": DEFAULT_TRADE_TYPE,
        "delivery_term": offer.delivery_term.code if offer.delivery_term else None,
        "payment_term": _payment_terms(offer.payment_term),
        "delivery_from": offer.delivery_from.isoformat(),
        "delivery_until": offer.delivery_until.isoformat(),
    }
    trade = Trade(
        id=uuid.uuid4(),
        organization_id=negotiation.organization_id,
        negotiation=negotiation,
        status=CONFIRMED if all(picked.values()) else PENDING,
        requirement_id=negotiation.requirement_id,
        availability=availability,
        buyer=buyer,
        seller=seller,
        buyer_snapshot=party_snapshot(buyer),
        seller_snapshot=party_snapshot(seller),
        **picked,
        bill_to=branch_snapshot(picked["bill_to_branch"], buyer),
        ship_to=branch_snapshot(picked["ship_to_branch"], buyer),
        ship_from=branch_snapshot(picked["ship_from_branch"], seller),
        commodity=commodity,
        variety=availability.variety,
        goods_snapshot={
            "commodity_code": commodity.code,
            "commodity_name": commodity.name,
            "hsn_code": commodity.hsn_code,
            "variety": availability.variety.name if availability.variety else None,
        },
        quality=availability.quality,
        quantity=offer.quantity,
        quantity_unit=offer.quantity_unit,
        quantity_unit_factor=offer.quantity_unit_factor,
        quantity_kg=offer.quantity_kg,
        price=offer.price,
        price_unit=offer.price_unit,
        price_unit_factor=offer.price_unit_factor,
        price_per_kg=offer.price_per_kg,
        currency=offer.currency,
        gst_rate=commodity.gst_rate,
        reverse_charge=is_agriculturist(seller.pk),
        delivery_from=offer.delivery_from,
        delivery_until=offer.delivery_until,
        delivery_term=offer.delivery_term,
        payment_term=offer.payment_term,
        terms_snapshot=terms,
        quality_conditions=offer.quality_conditions,
    )
    apply_value(trade)
    return trade


def _payment_terms(term: TradeTerm | None) -> dict[str, Any] | None:
    if term is None:
        return None
    return {
        "code": term.code,
        "name": term.name,
        "advance_percent": dec(term.advance_percent, 2),
        "payment_days": term.payment_days,
        "carry_charge_percent_per_annum": dec(term.carry_charge_percent_per_annum, 2),
    }


# --- acting on a trade ----------------------------------------------------------------------------


def _locked_trade(trade_id: UUID) -> Trade:
    lock_trade(trade_id)
    return Trade.objects.select_related("buyer", "seller").get(pk=trade_id)


def trade_actor(actor: User, trade: Trade, *, on_behalf_of: UUID | None, desk_allowed: bool) -> str:
    """BUYER or SELLER for a party's user (or the desk on its behalf), DESK for staff with
    trades.manage_trade acting on their own account (when `desk_allowed`)."""
    from apps.partners.permissions import is_staff_of

    if on_behalf_of is None and desk_allowed and is_staff_of(actor, trade.organization_id):
        ensure_desk(actor, trade.organization_id, MANAGE_TRADE)
        return DESK
    return acting_side(
        actor,
        organization_id=trade.organization_id,
        buyer=trade.buyer,
        seller=trade.seller,
        staff_perm=MANAGE_TRADE,
        on_behalf_of=on_behalf_of,
    )


def _reason(value: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CancelReasonRequired(errors=[{"attr": "reason", "code": "reason_required", "detail": "Give a reason."}])
    if len(value) > REASON_MAX_LENGTH:
        raise DomainError.for_field("reason", f"At most {REASON_MAX_LENGTH} characters.", code="too_long")
    return value


def trade_status_change(
    *, actor: User, trade_id: UUID, to_status: str, reason: str = "", on_behalf_of: UUID | None = None
) -> Trade:
    """One step of the status machine (STEPS): the seller ships (CONFIRMED -> IN_TRANSIT), the
    buyer confirms delivery (IN_TRANSIT -> DELIVERED: the exposure moves to DELIVERED_UNBILLED),
    the desk completes (DELIVERED -> COMPLETED: the exposure is released); either party or the
    desk disputes (CONFIRMED/IN_TRANSIT/DELIVERED -> DISPUTED, reason required) and the desk
    settles it back to where it was (cancelling goes through trade_cancel).

    Refuses: 409 invalid_transition (not a step from here, or a settlement to another state
    than the one before the dispute), 403 wrong_side (the step belongs to the other side or the
    desk), 403 for a caller who may not act, 400 reason_required for a dispute without a reason.
    Emits trades.trade.status_changed with from/to."""
    with transaction.atomic():
        trade = _locked_trade(trade_id)
        current = trade.status
        allowed = STEPS.get((current, to_status))
        if allowed is None or (current == DISPUTED and to_status != trade.status_before_dispute):
            targets = tuple(
                to
                for (frm, to) in STEPS
                if frm == current and (current != DISPUTED or to == trade.status_before_dispute)
            )
            raise TradeInvalidTransition(action=f"move to {to_status}", current=current, allowed=targets or ("(none)",))
        who = trade_actor(actor, trade, on_behalf_of=on_behalf_of, desk_allowed=DESK in allowed)
        if who not in allowed:
            raise WrongSide(
                f"Moving a trade from {current} to {to_status} is for the {' or '.join(a.lower() for a in allowed)}.",
                extra={"allowed": list(allowed), "you": who},
            )
        reason = _reason(reason, required=to_status == DISPUTED)
        now = timezone.now()
        if to_status == DISPUTED:
            trade.status_before_dispute, trade.dispute_reason = current, reason
        elif current == DISPUTED:
            trade.status_before_dispute = ""
        if to_status == DELIVERED:
            trade.delivered_kg = trade.quantity_kg
            exposure_of.trade_delivered(trade_id=trade.pk)
        if to_status == COMPLETED:
            exposure_of.release_trade(trade_id=trade.pk)
            trade.closed_at = now
        trade.status = to_status
        trade.status_changed_at = now
        trade.save()
        emit_trade_event(events.TRADE_STATUS_CHANGED, trade, actor, side=who, reason=reason, **{"from": current})
    return trade


def trade_branches_select(
    *,
    actor: User,
    trade_id: UUID,
    bill_to_branch_id: UUID | None = None,
    ship_to_branch_id: UUID | None = None,
    ship_from_branch_id: UUID | None = None,
    on_behalf_of: UUID | None = None,
) -> Trade:
    """A party picks its branches while the trade is PENDING_BRANCH_SELECTION: the buyer its
    bill-to and ship-to (an active branch that can receive), the seller its ship-from (one that
    can send). GST is recomputed from the states; with all three set the trade is CONFIRMED (the
    exposure resized to the new total). 400 branch_invalid for another partner's or an unfit
    branch, 403 wrong_side for the other side's branch, 409 invalid_transition once CONFIRMED.
    Emits trades.trade.branches_selected (and status_changed when it confirms)."""
    with transaction.atomic():
        trade = _locked_trade(trade_id)
        side = trade_actor(actor, trade, on_behalf_of=on_behalf_of, desk_allowed=False)
        if trade.status != PENDING:
            raise TradeInvalidTransition(action="select branches", current=trade.status, allowed=(PENDING,))
        wanted = {"bill_to_branch": bill_to_branch_id, "ship_to_branch": ship_to_branch_id}
        theirs = {"ship_from_branch": ship_from_branch_id}
        mine, other = (wanted, theirs) if side == Side.BUYER else (theirs, wanted)
        if any(v is not None for v in other.values()):
            raise WrongSide("Each side picks its own branches: the buyer bill-to and ship-to, the seller ship-from.")
        if all(v is None for v in mine.values()):
            raise BranchSelectionInvalid("Name at least one branch.")
        partner = trade.buyer if side == Side.BUYER else trade.seller
        for field, branch_id in mine.items():
            if branch_id is None:
                continue
            fit = Q(can_send=True) if field == "ship_from_branch" else Q(can_receive=True)
            if field == "bill_to_branch":
                fit = Q()
            branch = Branch.objects.filter(fit, pk=branch_id, partner=partner, is_active=True).first()
            if branch is None:
                raise BranchSelectionInvalid(
                    f"{field}_id must be an active branch of {partner.code} that can "
                    f"{'send' if field == 'ship_from_branch' else 'receive'}.",
                    errors=[{"attr": f"{field}_id", "code": "branch_invalid", "detail": "Not a fitting branch."}],
                )
            setattr(trade, field, branch)
            snapshot = field.removesuffix("_branch")
            setattr(trade, snapshot, branch_snapshot(branch, partner))
        previous_total = trade.total_amount
        apply_value(trade)
        confirmed = bool(trade.bill_to and trade.ship_to and trade.ship_from)
        if confirmed:
            trade.status = CONFIRMED
            trade.status_changed_at = timezone.now()
        if trade.total_amount != previous_total:
            exposure_of.resize_trade(
                trade_id=trade.pk, buyer_id=trade.buyer_id, amount=trade.total_amount, within_limit=False
            )
        trade.save()
        emit_trade_event(events.TRADE_BRANCHES_SELECTED, trade, actor, side=side)
        if confirmed:
            emit_trade_event(events.TRADE_STATUS_CHANGED, trade, actor, side=side, reason="", **{"from": PENDING})
    return trade


# --- cancellation ---------------------------------------------------------------------------------


def reverse_undelivered(trade: Trade, actor: User | None, *, quantity_kg: Decimal | None = None) -> Decimal:
    """Give back what the trade holds and has not delivered (or `quantity_kg` of it): the sold
    quantity to available, the requirement's fulfilment. Lock order: availability, requirement
    (the caller holds the trade and releases or resizes the exposure in between)."""
    quantity = trade.undelivered_kg if quantity_kg is None else quantity_kg
    if quantity > 0:
        desk.availability_return_sold(
            availability_id=trade.availability_id, quantity_kg=quantity, reference=trade.number, actor=actor
        )
    return quantity


def trade_cancel(*, actor: User, trade_id: UUID, reason: str = "", on_behalf_of: UUID | None = None) -> Trade:
    """Cancel a trade that is not COMPLETED or CANCELLED: by the desk (staff with
    trades.manage_trade) with a reason, at once; or by agreement of both parties: the first
    side's request is recorded (trades.trade.cancel_requested) and the other side's own request
    cancels it.

    Cancelling reverses exactly what was not delivered: that quantity goes back to available on
    the availability, the requirement's fulfilment goes back by it, and the trade's exposure is
    released. 409 invalid_transition for a final trade, 400 reason_required for the desk without
    a reason, 409 cancel_already_requested for a side asking twice. Emits
    trades.trade.cancelled with the quantity returned."""
    with transaction.atomic():
        trade = _locked_trade(trade_id)
        who = trade_actor(actor, trade, on_behalf_of=on_behalf_of, desk_allowed=True)
        if trade.status in FINAL_STATES:
            raise TradeInvalidTransition(
                action="cancel",
                current=trade.status,
                allowed=tuple(s for s in TradeStatus.values if s not in FINAL_STATES),
            )
        reason = _reason(reason, required=who == DESK)
        if who != DESK and trade.cancel_requested_by != ("SELLER" if who == Side.BUYER else "BUYER"):
            if trade.cancel_requested_by == who:
                raise DomainError(
                    "Your side has asked already; the other side must agree.",
                    code="cancel_already_requested",
                    extra={"status": trade.status},
                )
            trade.cancel_requested_by = who
            trade.cancel_reason = reason
            trade.save(update_fields=["cancel_requested_by", "cancel_reason", "updated_at"])
            emit_trade_event(events.TRADE_CANCEL_REQUESTED, trade, actor, side=who, reason=reason)
            return trade
        returned = reverse_undelivered(trade, actor)
        exposure_of.release_trade(trade_id=trade.pk)
        if returned > 0:
            desk_requirements.requirement_reverse_fulfilment(
                requirement_id=trade.requirement_id, quantity_kg=returned, reference=trade.number, actor=actor
            )
        now = timezone.now()
        previous = trade.status
        trade.status = CANCELLED
        trade.cancel_reason = reason or trade.cancel_reason
        trade.cancelled_by = actor
        trade.status_changed_at = trade.closed_at = now
        trade.save()
        emit_trade_event(
            events.TRADE_CANCELLED,
            trade,
            actor,
            side=who,
            reason=trade.cancel_reason,
            returned_kg=dec(returned, 3),
            **{"from": previous},
        )
    return trade

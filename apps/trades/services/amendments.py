"""Trade amendments (SPEC section 10): after a trade is CONFIRMED, a change of price, quantity,
delivery dates or address is asked for by one side and applied only when the other side
approves. Old and new values are kept on the amendment.

Applying, under the trade's lock (then the trade desk's and risk's locks in the trade order):
- PRICE: amount, GST and commission recomputed; the exposure resized (an increase within the
  buyer's limit).
- QUANTITY: an increase reserves and sells the extra quantity on the availability, records it
  on the requirement and re-checks the buyer's credit; a decrease gives the quantity back to
  available and takes it off the requirement's fulfilment; the exposure follows.
- DELIVERY_DATE: the delivery window.
- ADDRESS: the buyer's ship-to or bill-to branch or the seller's ship-from (GST recomputed).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.partners.models import Branch
from apps.tradedesk.inputs import Inputs, dec
from apps.tradedesk.services import requirements as desk_requirements
from apps.tradedesk.services import reservations as desk
from apps.trades import events
from apps.trades import exposure as exposure_of
from apps.trades.errors import (
    AmendmentInvalid,
    AmendmentNotFound,
    AmendmentNotPending,
    AmendmentPending,
    OfferFieldInvalid,
    OwnAmendment,
    TradeInvalidTransition,
)
from apps.trades.locks import lock_amendment
from apps.trades.models import AmendmentKind, AmendmentStatus, Side, Trade, TradeAmendment, TradeStatus
from apps.trades.services.trades import (
    DESK,
    _locked_trade,
    apply_value,
    branch_snapshot,
    emit_trade_event,
    reverse_undelivered,
    trade_actor,
)

AMENDABLE = (TradeStatus.CONFIRMED, TradeStatus.IN_TRANSIT)
REASON_MAX_LENGTH = 500
FIELDS: dict[str, frozenset[str]] = {
    AmendmentKind.PRICE: frozenset({"price"}),
    AmendmentKind.QUANTITY: frozenset({"quantity"}),
    AmendmentKind.DELIVERY_DATE: frozenset({"delivery_from", "delivery_until"}),
    AmendmentKind.ADDRESS: frozenset({"ship_to_branch_id", "bill_to_branch_id", "ship_from_branch_id"}),
}
ADDRESS_SIDE = {"ship_to_branch_id": Side.BUYER, "bill_to_branch_id": Side.BUYER, "ship_from_branch_id": Side.SELLER}

_in = Inputs(OfferFieldInvalid, noun="amendment")


def _invalid(attr: str, code: str, detail: str) -> AmendmentInvalid:
    return AmendmentInvalid(detail, errors=[{"attr": attr, "code": code, "detail": detail}])


def _clean(trade: Trade, kind: str, values: Mapping[str, Any], side: str) -> tuple[dict[str, Any], dict[str, Any]]:  # noqa: C901 (one check per amendable field; split by field group later)
    """(old, new) values of the change, as JSON; refuses 400 amendment_invalid."""
    if kind not in FIELDS:
        raise _invalid("kind", "kind_invalid", f"kind is one of {', '.join(FIELDS)}.")
    if not isinstance(values, Mapping):
        raise _invalid("values", "values_invalid", "values is an object.")
    # JSON numbers arrive as floats: read them as the decimal the client wrote.
    values = {key: Decimal(repr(v)) if isinstance(v, float) else v for key, v in values.items()}
    unknown = set(values) - FIELDS[kind]
    if unknown or not values:
        raise _invalid("values", "values_invalid", f"A {kind} amendment takes {', '.join(sorted(FIELDS[kind]))}.")
    try:
        if kind == AmendmentKind.PRICE:
            price = _in.number(_in.required(values, "price"), "price", places=2, max_digits=16)
            if price <= 0 or price == trade.price:
                raise _invalid("price", "price_invalid", "A new price is more than zero and not the current one.")
            return {"price": dec(trade.price, 2)}, {"price": dec(price, 2)}
        if kind == AmendmentKind.QUANTITY:
            quantity = _in.number(_in.required(values, "quantity"), "quantity", places=3, max_digits=16)
            if quantity <= 0 or quantity == trade.quantity:
                raise _invalid(
                    "quantity", "quantity_invalid", "A new quantity is more than zero and not the current one."
                )
            return {"quantity": dec(trade.quantity, 3)}, {"quantity": dec(quantity, 3)}
        if kind == AmendmentKind.DELIVERY_DATE:
            start = _in.date(values.get("delivery_from", trade.delivery_from), "delivery_from")
            end = _in.date(values.get("delivery_until", trade.delivery_until), "delivery_until")
            if end < start:
                raise _invalid("delivery_until", "window_invalid", "delivery_until is on or after delivery_from.")
            old = {"delivery_from": trade.delivery_from.isoformat(), "delivery_until": trade.delivery_until.isoformat()}
            return old, {"delivery_from": start.isoformat(), "delivery_until": end.isoformat()}
    except OfferFieldInvalid as error:
        raise AmendmentInvalid(error.detail, errors=error.errors) from None
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, raw in values.items():
        if ADDRESS_SIDE[key] != side and side != DESK:
            raise _invalid(key, "not_your_branch", "Each side changes its own addresses.")
        partner = trade.buyer if ADDRESS_SIDE[key] == Side.BUYER else trade.seller
        fit: dict[str, Any] = {"can_send": True} if key == "ship_from_branch_id" else {}
        if key == "ship_to_branch_id":
            fit = {"can_receive": True}
        branch = Branch.objects.filter(
            pk=_in.uuid(raw, key, "branch_invalid"), partner=partner, is_active=True, **fit
        ).first()
        if branch is None:
            raise _invalid(key, "branch_invalid", f"{key} must be a fitting active branch of {partner.code}.")
        current = getattr(trade, key.removesuffix("_id") + "_id")
        before[key] = str(current) if current else None
        after[key] = str(branch.pk)
    return before, after


def trade_amendment_request(
    *,
    actor: User,
    trade_id: UUID,
    kind: str,
    values: Mapping[str, Any],
    reason: str = "",
    on_behalf_of: UUID | None = None,
) -> TradeAmendment:
    """A party asks to change a CONFIRMED or IN_TRANSIT trade; the counterparty decides.
    Refuses: 409 invalid_transition (another state), 409 amendment_pending (one at a time),
    400 amendment_invalid (the fields of its kind; a branch of the other side), 403 not_a_party
    for a stranger. Emits trades.trade.amendment_requested with old and new values."""
    reason = (reason or "").strip()[:REASON_MAX_LENGTH]
    with transaction.atomic():
        trade = _locked_trade(trade_id)
        side = trade_actor(actor, trade, on_behalf_of=on_behalf_of, desk_allowed=False)
        if trade.status not in AMENDABLE:
            raise TradeInvalidTransition(action="amend", current=trade.status, allowed=AMENDABLE)
        if TradeAmendment.objects.filter(trade=trade, status=AmendmentStatus.PENDING).exists():
            raise AmendmentPending()
        old, new = _clean(trade, kind, values, side)
        amendment = TradeAmendment.objects.create(
            trade=trade,
            kind=kind,
            requested_by=actor,
            requested_by_side=side,
            old_values=old,
            new_values=new,
            reason=reason,
        )
        emit_trade_event(
            events.TRADE_AMENDMENT_REQUESTED,
            trade,
            actor,
            amendment={"id": str(amendment.pk), "kind": kind, "side": side, "old": old, "new": new},
        )
    return amendment


def trade_amendment_decide(
    *,
    actor: User,
    trade_id: UUID,
    amendment_id: UUID,
    approve: bool,
    note: str = "",
    on_behalf_of: UUID | None = None,
) -> TradeAmendment:
    """The counterparty approves (applied at once, see the module docstring) or rejects a
    pending amendment. Refuses: 409 own_amendment (the side that asked), 409
    amendment_not_pending, 409 invalid_transition when the trade has left CONFIRMED/IN_TRANSIT,
    and what applying refuses (409 insufficient_quantity, 409 credit_limit_exceeded, 409
    fulfilment_exceeds_max), leaving everything as it was. Emits
    trades.trade.amendment_decided."""
    note = (note or "").strip()[:REASON_MAX_LENGTH]
    with transaction.atomic():
        trade = _locked_trade(trade_id)
        amendment = lock_amendment(amendment_id)
        if amendment.trade_id != trade.pk:
            raise AmendmentNotFound()
        side = trade_actor(actor, trade, on_behalf_of=on_behalf_of, desk_allowed=False)
        if amendment.status != AmendmentStatus.PENDING:
            raise AmendmentNotPending()
        if amendment.requested_by_side == side:
            raise OwnAmendment()
        if trade.status not in AMENDABLE:
            raise TradeInvalidTransition(action="amend", current=trade.status, allowed=AMENDABLE)
        if approve:
            _apply(trade, amendment, actor)
        amendment.status = AmendmentStatus.APPROVED if approve else AmendmentStatus.REJECTED
        amendment.decided_by, amendment.decided_at, amendment.decision_note = actor, timezone.now(), note
        amendment.save()
        emit_trade_event(
            events.TRADE_AMENDMENT_DECIDED,
            trade,
            actor,
            amendment={
                "id": str(amendment.pk),
                "kind": amendment.kind,
                "status": amendment.status,
                "old": amendment.old_values,
                "new": amendment.new_values,
            },
        )
    return amendment


def _apply(trade: Trade, amendment: TradeAmendment, actor: User) -> None:
    """Apply an approved amendment. Lock order: availability (a quantity change), the buyer's
    credit row (the exposure resized), the requirement (its fulfilment moved last)."""
    new = amendment.new_values
    previous_total = trade.total_amount
    fulfilment_delta = Decimal(0)
    if amendment.kind == AmendmentKind.PRICE:
        trade.price = Decimal(new["price"])
        trade.price_per_kg = (trade.price / trade.price_unit_factor).quantize(Decimal("0.0001"))
    elif amendment.kind == AmendmentKind.QUANTITY:
        fulfilment_delta = _apply_quantity(trade, Decimal(new["quantity"]), actor)
    elif amendment.kind == AmendmentKind.DELIVERY_DATE:
        from datetime import date

        trade.delivery_from = date.fromisoformat(new["delivery_from"])
        trade.delivery_until = date.fromisoformat(new["delivery_until"])
    else:
        for key, branch_id in new.items():
            field = key.removesuffix("_id")
            branch = Branch.objects.get(pk=branch_id)
            partner = trade.seller if field == "ship_from_branch" else trade.buyer
            setattr(trade, field, branch)
            setattr(trade, field.removesuffix("_branch"), branch_snapshot(branch, partner))
    apply_value(trade)
    if trade.total_amount != previous_total:
        exposure_of.resize_trade(
            trade_id=trade.pk,
            buyer_id=trade.buyer_id,
            amount=trade.total_amount,
            within_limit=trade.total_amount > previous_total,
        )
    if fulfilment_delta > 0:
        desk_requirements.requirement_record_fulfilment(
            requirement_id=trade.requirement_id, quantity_kg=fulfilment_delta, reference=trade.number, actor=actor
        )
    elif fulfilment_delta < 0:
        desk_requirements.requirement_reverse_fulfilment(
            requirement_id=trade.requirement_id, quantity_kg=-fulfilment_delta, reference=trade.number, actor=actor
        )
    trade.save()


def _apply_quantity(trade: Trade, quantity: Decimal, actor: User) -> Decimal:
    """Move the trade's quantity on the availability (the extra reserved as its own lot, then
    sold; or the cut given back to available). Returns the change in kg, for the requirement's
    fulfilment (moved by the caller after the exposure)."""
    new_kg = (quantity * trade.quantity_unit_factor).quantize(Decimal("0.001"))
    delta = new_kg - trade.quantity_kg
    if new_kg < trade.delivered_kg:
        raise _invalid("quantity", "below_delivered", f"{trade.delivered_kg} kg is delivered already.")
    if delta > 0:
        reservation = desk.availability_reserve(
            availability_id=trade.availability_id,
            quantity_kg=delta,
            purpose="TRADE",
            reference=trade.number,
            buyer_id=trade.buyer_id,
            actor=actor,
        )
        desk.availability_sell(reservation_id=reservation.pk, actor=actor)
    elif delta < 0:
        reverse_undelivered(trade, actor, quantity_kg=-delta)
    trade.quantity = quantity
    trade.quantity_kg = new_kg
    return delta

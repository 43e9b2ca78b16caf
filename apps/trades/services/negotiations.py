"""Negotiations (SPEC section 9): start from a match token, alternate offers, messages, reject,
cancel and the inactivity expiry. Accepting lives in `services.trades` (it makes the trade).

While a negotiation is open the quantity on the table is held on the availability by a
reservation the negotiation owns (`owner_type` "trades.negotiation"): the first offer reserves
it, every later offer moves it to the offer's quantity (tradedesk reservation_resize, never
overselling) and its expiry to the negotiation's, and reject, cancel and expiry release it. The
buyer's exposure is booked at stage NEGOTIATING with the first offer, resized with each offer and
released when the negotiation closes.

Locks: the negotiation row first (every step of one bargain queues there), then what the trade
desk and risk lock in their own order (availability, reservation; the buyer's credit row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.commodities.models import TermKind
from apps.core.errors import DomainError, FieldError, FieldErrors, ValidationFailed
from apps.core.unset import UNSET, Unset, given_fields
from apps.events.emit import emit
from apps.partners.models import BusinessPartner
from apps.tradedesk.inputs import Inputs, UnitFactor, dec, instant, jsonable, per_kg
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement, RequirementStatus
from apps.tradedesk.services import reservations as desk
from apps.trades import events
from apps.trades import exposure as exposure_of
from apps.trades.errors import (
    MaxRoundsReached,
    MessageInvalid,
    NegotiationClosed,
    NegotiationExists,
    NegotiationNotFound,
    NotYourTurn,
    OfferFieldInvalid,
    OfferInvalid,
)
from apps.trades.gst import amount_of
from apps.trades.locks import lock_negotiation
from apps.trades.models import (
    OPEN_NEGOTIATION_STATES,
    MessageKind,
    Negotiation,
    NegotiationMessage,
    NegotiationStatus,
    Offer,
    OfferStatus,
    Side,
    TradesSettings,
)
from apps.trades.permissions import NEGOTIATE_FOR_PARTNER, acting_side, ensure_side_may_trade

OWNER_TYPE = "trades.negotiation"
PURPOSE = "NEGOTIATION"
MESSAGE_MAX_LENGTH = 2000
OFFER_MESSAGE_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 500


@dataclass(frozen=True, kw_only=True)
class OfferTerms:
    """What one side offers in a round: price per `price_unit` and quantity in `quantity_unit`
    (both default to the availability's units), the delivery window, the terms, quality
    conditions per parameter code and a message. Every field defaults to UNSET; a required one
    left out (price, quantity, the window) is refused with the other errors, all at once. The
    types are what the API's serializer parses to; the service checks every rule on them."""

    price: Decimal | Unset = UNSET
    price_unit: str | Unset = UNSET
    quantity: Decimal | Unset = UNSET
    quantity_unit: str | Unset = UNSET
    delivery_from: date | Unset = UNSET
    delivery_until: date | Unset = UNSET
    delivery_term_id: UUID | Unset | None = UNSET
    payment_term_id: UUID | Unset | None = UNSET
    quality_conditions: Mapping[str, Any] | Unset = UNSET
    message: str | Unset = UNSET


_in = Inputs(OfferFieldInvalid, noun="offer")


def other(side: str) -> str:
    return Side.SELLER if side == Side.BUYER else Side.BUYER


def trades_settings_for(organization_id: Any) -> TradesSettings:
    """The organization's settings row, created with the defaults on first use."""
    found, _ = TradesSettings.objects.get_or_create(organization_id=organization_id)
    return found


# --- payloads and events --------------------------------------------------------------------------


def party_payload(partner: BusinessPartner) -> dict[str, Any]:
    """Who a party is: revealed to the other side once the negotiation starts."""
    return {
        "id": str(partner.pk),
        "code": partner.code,
        "name": partner.legal_name,
        "trade_name": partner.trade_name,
        "city": partner.city,
        "state_code": partner.state_code,
        "gstin": partner.gstin,
    }


def negotiation_payload(negotiation: Negotiation) -> dict[str, Any]:
    return {
        "negotiation_id": str(negotiation.pk),
        "status": negotiation.status,
        "match_id": str(negotiation.match_id) if negotiation.match_id else None,
        "requirement_id": str(negotiation.requirement_id),
        "availability_id": str(negotiation.availability_id),
        "buyer_id": str(negotiation.buyer_id),
        "seller_id": str(negotiation.seller_id),
        "rounds": negotiation.rounds,
        "max_rounds": negotiation.max_rounds,
        "next_side": negotiation.next_side,
        "expires_at": instant(negotiation.expires_at),
    }


def offer_payload(offer: Offer) -> dict[str, Any]:
    return {
        "offer_id": str(offer.pk),
        "round": offer.round,
        "side": offer.side,
        "price": dec(offer.price, 2),
        "price_unit": offer.price_unit.code,
        "price_per_kg": dec(offer.price_per_kg, 4),
        "quantity": dec(offer.quantity, 3),
        "quantity_unit": offer.quantity_unit.code,
        "quantity_kg": dec(offer.quantity_kg, 3),
        "delivery_from": offer.delivery_from.isoformat(),
        "delivery_until": offer.delivery_until.isoformat(),
        "delivery_term_id": str(offer.delivery_term_id) if offer.delivery_term_id else None,
        "payment_term_id": str(offer.payment_term_id) if offer.payment_term_id else None,
        "quality_conditions": offer.quality_conditions,
        "message": offer.message,
    }


def emit_negotiation_event(event_type: str, negotiation: Negotiation, actor: User | None, **extra: Any) -> None:
    """Both parties hear it live (realtime routes it to `negotiation.<id>` and both partners) and
    get it in their feeds and webhooks (`parties`)."""
    emit(
        event_type,
        aggregate=negotiation,
        actor=actor,
        organization_id=negotiation.organization_id,
        parties=(negotiation.buyer_id, negotiation.seller_id),
        payload={**negotiation_payload(negotiation), **extra},
    )


def _system_message(negotiation: Negotiation, body: str) -> NegotiationMessage:
    return NegotiationMessage.objects.create(negotiation=negotiation, kind=MessageKind.SYSTEM, side="", body=body)


# --- start ----------------------------------------------------------------------------------------


def negotiation_start(*, actor: User, match_token: str, on_behalf_of: UUID | None = None) -> Negotiation:
    """Start a negotiation from a match token, by either party (or the desk on a party's
    behalf). 404 match_not_found for a token outside the caller's scope (another
    organization's); 409 match_withdrawn for a withdrawn proposal; then as `negotiation_open`."""
    from apps.trades.matches import match_for_token

    match = match_for_token(user=actor, token=str(match_token or ""))
    if not match.active:
        raise DomainError("The match was withdrawn.", code="match_withdrawn", extra={"match_id": str(match.match_id)})
    return negotiation_open(
        actor=actor,
        requirement_id=match.requirement_id,
        availability_id=match.availability_id,
        match_id=match.match_id,
        on_behalf_of=on_behalf_of,
    )


def negotiation_open(
    *,
    actor: User,
    requirement_id: UUID,
    availability_id: UUID,
    match_id: UUID | None = None,
    on_behalf_of: UUID | None = None,
) -> Negotiation:
    """INITIATED negotiation between the requirement's buyer and the availability's seller.

    Refuses: 403 not_a_party / permission_denied (the caller acts for neither side), 403
    partner_not_active / kyc_not_valid / capability_missing (either party may not trade now),
    409 credit_blocked (risk blocked the buyer), 409 posting_not_live (the availability or the
    requirement is off the market), 409 negotiation_exists (with its id) when the pair is in an
    open negotiation already. Emits trades.negotiation.started with both parties' identities
    (revealed to each other from now on)."""
    with transaction.atomic():
        requirement = Requirement.objects.select_related("partner").filter(pk=requirement_id).first()
        availability = Availability.objects.select_related("partner").filter(pk=availability_id).first()
        if requirement is None or availability is None or requirement.organization_id != availability.organization_id:
            raise NegotiationNotFound("The match no longer names a requirement and an availability.")
        buyer, seller = requirement.partner, availability.partner
        side = acting_side(
            actor,
            organization_id=availability.organization_id,
            buyer=buyer,
            seller=seller,
            staff_perm=NEGOTIATE_FOR_PARTNER,
            on_behalf_of=on_behalf_of,
        )
        ensure_side_may_trade(buyer, Side.BUYER)
        ensure_side_may_trade(seller, Side.SELLER)
        exposure_of.ensure_buyer_not_blocked(buyer.pk)
        if availability.status not in (
            AvailabilityStatus.ACTIVE,
            AvailabilityStatus.RESERVED,
        ) or requirement.status not in (
            RequirementStatus.ACTIVE,
            RequirementStatus.PARTIALLY_FULFILLED,
        ):
            raise DomainError(
                "The availability or the requirement is no longer on the market.",
                code="posting_not_live",
                extra={"availability_status": availability.status, "requirement_status": requirement.status},
            )
        existing = Negotiation.objects.filter(
            requirement_id=requirement.pk, availability_id=availability.pk, status__in=OPEN_NEGOTIATION_STATES
        ).first()
        if existing is not None:
            raise NegotiationExists(existing.pk)
        settings = trades_settings_for(availability.organization_id)
        now = timezone.now()
        try:
            with transaction.atomic():
                negotiation = Negotiation.objects.create(
                    organization_id=availability.organization_id,
                    match_id=match_id,
                    requirement=requirement,
                    availability=availability,
                    buyer=buyer,
                    seller=seller,
                    started_by=actor,
                    started_for=side,
                    max_rounds=settings.max_rounds,
                    expires_at=now + timedelta(hours=settings.inactivity_hours),
                )
        except IntegrityError:
            # A twin started the same pair a moment ago (the partial unique index decided).
            existing = Negotiation.objects.filter(
                requirement_id=requirement.pk, availability_id=availability.pk, status__in=OPEN_NEGOTIATION_STATES
            ).first()
            raise NegotiationExists(existing.pk if existing else None) from None
        _system_message(
            negotiation,
            f"Negotiation started by the {side.lower()}: {seller.legal_name} ({seller.code}) sells to "
            f"{buyer.legal_name} ({buyer.code}).",
        )
        emit_negotiation_event(
            events.NEGOTIATION_STARTED,
            negotiation,
            actor,
            started_for=side,
            buyer=party_payload(buyer),
            seller=party_payload(seller),
        )
    return negotiation


# --- offers ---------------------------------------------------------------------------------------


def _open_for_step(negotiation: Negotiation, now: datetime) -> None:
    if negotiation.status not in OPEN_NEGOTIATION_STATES:
        raise NegotiationClosed(negotiation.status)
    if negotiation.expires_at <= now:
        raise NegotiationClosed(NegotiationStatus.EXPIRED)


def _clean_offer(  # noqa: C901 (one check per offer field; split by field group later)
    data: Mapping[str, Any], negotiation: Negotiation, prior_errors: Sequence[FieldError] = ()
) -> dict[str, Any]:
    """Every field of an offer, all errors at once (400 offer_invalid with `errors`; with
    `prior_errors`, the fields the API's type checks refused, 400 validation_failed listing
    those and the rest, each field once)."""
    requirement, availability = negotiation.requirement, negotiation.availability
    errors: list[dict[str, Any]] = []
    cleaned: dict[str, Any] = {}

    def field(key: str, read: Any) -> None:
        try:
            cleaned[key] = read()
        except DomainError as error:  # the input primitives' and the unit master's refusals
            if error.status != 400:
                raise
            errors.extend(error.errors or [{"attr": key, "code": error.code, "detail": error.detail}])

    field("price", lambda: _in.number(_in.required(data, "price"), "price", places=2, max_digits=16))
    field("price_unit", lambda: _in.unit(data.get("price_unit"), "price_unit", default=availability.price_unit))
    field("quantity", lambda: _in.number(_in.required(data, "quantity"), "quantity", places=3, max_digits=16))
    field(
        "quantity_unit",
        lambda: _in.unit(data.get("quantity_unit"), "quantity_unit", default=availability.quantity_unit),
    )
    field("delivery_from", lambda: _in.date(_in.required(data, "delivery_from"), "delivery_from"))
    field("delivery_until", lambda: _in.date(_in.required(data, "delivery_until"), "delivery_until"))
    field("delivery_term", lambda: _in.term(data, "delivery_term_id", TermKind.DELIVERY, None))
    field("payment_term", lambda: _in.term(data, "payment_term_id", TermKind.PAYMENT, None))

    def quality() -> dict[str, Any]:
        value = data.get("quality_conditions") or {}
        if not isinstance(value, Mapping):
            raise OfferFieldInvalid("quality_conditions", "quality_invalid", "quality_conditions is an object.")
        return dict(jsonable(value))

    field("quality_conditions", quality)

    def message() -> str:
        value = data.get("message") or ""
        if not isinstance(value, str) or len(value) > OFFER_MESSAGE_MAX_LENGTH:
            raise OfferFieldInvalid(
                "message", "message_invalid", f"message is text of at most {OFFER_MESSAGE_MAX_LENGTH} characters."
            )
        return value.strip()

    field("message", message)

    def add(attr: str, code: str, detail: str) -> None:
        errors.append({"attr": attr, "code": code, "detail": detail})

    price = cleaned.get("price")
    if price is not None and price <= 0:
        add("price", "price_invalid", f"price must be more than zero; got {price}.")
    quantity = cleaned.get("quantity")
    if quantity is not None and quantity <= 0:
        add("quantity", "quantity_invalid", f"quantity must be more than zero; got {quantity}.")
    start, end = cleaned.get("delivery_from"), cleaned.get("delivery_until")
    if start is not None and end is not None and end < start:
        add("delivery_until", "window_invalid", "delivery_until is on or after delivery_from.")
    unit: UnitFactor | None = cleaned.get("quantity_unit")
    if quantity is not None and quantity > 0 and unit is not None:
        quantity_kg = (quantity * unit.factor_to_kg).quantize(Decimal("0.001"))
        cleaned["quantity_kg"] = quantity_kg
        remaining = requirement.max_kg - requirement.fulfilled_kg
        if quantity_kg > remaining:
            add(
                "quantity",
                "above_buyer_max",
                f"{quantity_kg} kg is more than the buyer still needs ({remaining} kg of its maximum).",
            )
    if prior_errors:
        known = FieldErrors(prior_errors)
        raise ValidationFailed(errors=[*prior_errors, *(e for e in errors if not known.failed(e.get("attr")))])
    if errors:
        raise OfferInvalid("The offer has invalid fields; see errors.", errors=errors)
    price_unit: UnitFactor = cleaned["price_unit"]
    cleaned["price_per_kg"] = per_kg(cleaned["price"], price_unit)
    return cleaned


def _hold(negotiation: Negotiation, quantity_kg: Decimal, actor: User) -> None:
    """The reservation to the offer's quantity and the negotiation's expiry (tradedesk's rules:
    409 insufficient_quantity, 400 below_minimum_order / partial_order_not_allowed, ...)."""
    reservation = negotiation.reservation
    if reservation is not None and reservation.status == "ACTIVE":
        desk.reservation_resize(
            reservation_id=reservation.pk, quantity_kg=quantity_kg, actor=actor, expires_at=negotiation.expires_at
        )
        return
    negotiation.reservation = desk.availability_reserve(
        availability_id=negotiation.availability_id,
        quantity_kg=quantity_kg,
        purpose=PURPOSE,
        reference=str(negotiation.pk),
        buyer_id=negotiation.buyer_id,
        actor=actor,
        owner_type=OWNER_TYPE,
        owner_id=negotiation.pk,
        expires_at=negotiation.expires_at,
    )


def negotiation_offer_make(
    *,
    actor: User,
    negotiation_id: UUID,
    terms: OfferTerms,
    on_behalf_of: UUID | None = None,
    prior_errors: Sequence[FieldError] = (),
) -> Offer:
    """The next offer, by the side whose turn it is (either side opens).

    Refuses, writing nothing: 409 negotiation_closed (accepted, rejected, expired, cancelled or
    past its expiry), 409 not_your_turn (the same side twice in a row), 409 max_rounds_reached,
    403 for a party that may not act or trade, 400 offer_invalid with every field error (price
    or quantity of zero, window, terms, above the buyer's remaining maximum), and the trade
    desk's reservation refusals (409 insufficient_quantity beyond what is available, 400
    below_minimum_order, 400 partial_order_not_allowed). The previous offer becomes COUNTERED;
    the negotiation is IN_PROGRESS with a new inactivity expiry. Emits
    trades.negotiation.offer_made."""
    with transaction.atomic():
        negotiation = lock_negotiation(negotiation_id)
        negotiation = (
            Negotiation.objects.select_related("requirement", "availability", "buyer", "seller", "reservation")
            .filter(pk=negotiation.pk)
            .get()
        )
        now = timezone.now()
        side = acting_side(
            actor,
            organization_id=negotiation.organization_id,
            buyer=negotiation.buyer,
            seller=negotiation.seller,
            staff_perm=NEGOTIATE_FOR_PARTNER,
            on_behalf_of=on_behalf_of,
        )
        _open_for_step(negotiation, now)
        if negotiation.next_side and side != negotiation.next_side:
            raise NotYourTurn(f"The {negotiation.next_side.lower()} has the next offer.")
        if negotiation.rounds >= negotiation.max_rounds:
            raise MaxRoundsReached()
        ensure_side_may_trade(negotiation.buyer if side == Side.BUYER else negotiation.seller, side)
        cleaned = _clean_offer(given_fields(terms), negotiation, prior_errors)
        settings = trades_settings_for(negotiation.organization_id)
        Offer.objects.filter(negotiation=negotiation, status=OfferStatus.OPEN).update(
            status=OfferStatus.COUNTERED, updated_at=now
        )
        first = negotiation.rounds == 0
        negotiation.rounds += 1
        negotiation.next_side = other(side)
        negotiation.status = NegotiationStatus.IN_PROGRESS
        negotiation.last_offer_at = now
        negotiation.expires_at = now + timedelta(hours=settings.inactivity_hours)
        _hold(negotiation, cleaned["quantity_kg"], actor)
        negotiation.save(
            update_fields=[
                "rounds",
                "next_side",
                "status",
                "last_offer_at",
                "expires_at",
                "reservation",
                "updated_at",
            ]
        )
        price_unit: UnitFactor = cleaned["price_unit"]
        quantity_unit: UnitFactor = cleaned["quantity_unit"]
        offer = Offer.objects.create(
            negotiation=negotiation,
            round=negotiation.rounds,
            side=side,
            made_by=actor,
            price=cleaned["price"],
            price_unit=price_unit.unit,
            price_unit_factor=price_unit.factor_to_kg,
            price_per_kg=cleaned["price_per_kg"],
            currency=negotiation.availability.currency,
            quantity=cleaned["quantity"],
            quantity_unit=quantity_unit.unit,
            quantity_unit_factor=quantity_unit.factor_to_kg,
            quantity_kg=cleaned["quantity_kg"],
            delivery_from=cleaned["delivery_from"],
            delivery_until=cleaned["delivery_until"],
            delivery_term=cleaned["delivery_term"],
            payment_term=cleaned["payment_term"],
            quality_conditions=cleaned["quality_conditions"],
            message=cleaned["message"],
        )
        amount = amount_of(quantity_kg=offer.quantity_kg, price=offer.price, price_unit_factor=offer.price_unit_factor)
        if first:
            exposure_of.book_negotiation(buyer_id=negotiation.buyer_id, negotiation_id=negotiation.pk, amount=amount)
        else:
            exposure_of.resize_negotiation(negotiation_id=negotiation.pk, amount=amount)
        emit_negotiation_event(events.NEGOTIATION_OFFER_MADE, negotiation, actor, offer=offer_payload(offer))
    return offer


# --- closing without a trade ----------------------------------------------------------------------


def _close(negotiation: Negotiation, *, status: str, actor: User | None, reason: str, now: datetime) -> Negotiation:
    """Close an open negotiation: the open offer CLOSED, the reservation released, the buyer's
    negotiation exposure released, a system message. The caller holds the negotiation lock."""
    Offer.objects.filter(negotiation=negotiation, status=OfferStatus.OPEN).update(
        status=OfferStatus.CLOSED, updated_at=now
    )
    if negotiation.reservation_id is not None:
        reservation = negotiation.reservation
        if reservation is not None and reservation.status == "ACTIVE":
            desk.availability_release(
                reservation_id=reservation.pk, actor=actor, reason=f"negotiation {status.lower()}"
            )
    if negotiation.rounds:
        exposure_of.release_negotiation(negotiation_id=negotiation.pk)
    negotiation.status = status
    negotiation.closed_at = now
    negotiation.closed_by = actor
    negotiation.close_reason = reason
    negotiation.next_side = ""
    negotiation.save(update_fields=["status", "closed_at", "closed_by", "close_reason", "next_side", "updated_at"])
    _system_message(negotiation, f"Negotiation {status.lower()}" + (f": {reason}" if reason else "."))
    return negotiation


def _reason(value: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError.for_field("reason", "A reason is required.", code="reason_required")
    if len(value) > REASON_MAX_LENGTH:
        raise DomainError.for_field("reason", f"At most {REASON_MAX_LENGTH} characters.", code="too_long")
    return value


def _locked_for_party(negotiation_id: UUID) -> Negotiation:
    lock_negotiation(negotiation_id)
    return Negotiation.objects.select_related("buyer", "seller", "reservation").filter(pk=negotiation_id).get()


def negotiation_reject(
    *, actor: User, negotiation_id: UUID, reason: str = "", on_behalf_of: UUID | None = None
) -> Negotiation:
    """A party turns down the offer on the table: REJECTED, the reservation and the buyer's
    negotiation exposure released. Refuses 409 negotiation_closed, 409 no_open_offer (nothing
    to reject yet: cancel instead), 409 own_offer (a party rejects the other side's offer).
    Emits trades.negotiation.rejected."""
    from apps.trades.errors import NoOpenOffer, OwnOffer

    reason = _reason(reason)
    with transaction.atomic():
        negotiation = _locked_for_party(negotiation_id)
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
        offer = Offer.objects.filter(negotiation=negotiation, status=OfferStatus.OPEN).first()
        if offer is None:
            raise NoOpenOffer("There is no offer to reject; cancel the negotiation instead.")
        if offer.side == side:
            raise OwnOffer("A party rejects the other side's offer, not its own; cancel instead.")
        _close(negotiation, status=NegotiationStatus.REJECTED, actor=actor, reason=reason, now=now)
        emit_negotiation_event(events.NEGOTIATION_REJECTED, negotiation, actor, side=side, reason=reason)
    return negotiation


def negotiation_cancel(
    *, actor: User, negotiation_id: UUID, reason: str = "", on_behalf_of: UUID | None = None
) -> Negotiation:
    """Either party walks away (or the desk for one): CANCELLED, the reservation and the buyer's
    negotiation exposure released. 409 negotiation_closed when it is closed already. Emits
    trades.negotiation.cancelled."""
    reason = _reason(reason)
    with transaction.atomic():
        negotiation = _locked_for_party(negotiation_id)
        side = acting_side(
            actor,
            organization_id=negotiation.organization_id,
            buyer=negotiation.buyer,
            seller=negotiation.seller,
            staff_perm=NEGOTIATE_FOR_PARTNER,
            on_behalf_of=on_behalf_of,
        )
        now = timezone.now()
        if negotiation.status not in OPEN_NEGOTIATION_STATES:
            raise NegotiationClosed(negotiation.status)
        _close(negotiation, status=NegotiationStatus.CANCELLED, actor=actor, reason=reason, now=now)
        emit_negotiation_event(events.NEGOTIATION_CANCELLED, negotiation, actor, side=side, reason=reason)
    return negotiation


def negotiations_expire_due(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Open negotiations past their inactivity expiry -> EXPIRED (reservation and exposure
    released, trades.negotiation.expired emitted once each). Beat, every minute; idempotent:
    a negotiation is re-checked under its lock, and one locked by a concurrent step is skipped
    (SKIP LOCKED) and taken on the next run. Returns how many expired."""
    now = now or timezone.now()
    expired = 0
    while True:
        due = list(
            Negotiation.objects.filter(status__in=OPEN_NEGOTIATION_STATES, expires_at__lte=now)
            .order_by("expires_at", "id")
            .values_list("pk", flat=True)[:batch_size]
        )
        done = 0
        for negotiation_id in due:
            with transaction.atomic():
                locked = (
                    Negotiation.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(pk=negotiation_id, status__in=OPEN_NEGOTIATION_STATES, expires_at__lte=now)
                    .first()
                )
                if locked is None:
                    continue
                negotiation = Negotiation.objects.select_related("reservation").get(pk=locked.pk)
                _close(negotiation, status=NegotiationStatus.EXPIRED, actor=None, reason="", now=now)
                emit_negotiation_event(events.NEGOTIATION_EXPIRED, negotiation, None)
                done += 1
        expired += done
        if len(due) < batch_size or done == 0:
            return expired


# --- messages -------------------------------------------------------------------------------------


def negotiation_message_post(
    *, actor: User, negotiation_id: UUID, body: str, on_behalf_of: UUID | None = None
) -> NegotiationMessage:
    """A party's message (the system writes its own; no caller can). 400 message_invalid for an
    empty or over-long body; 409 negotiation_closed once closed. Emits
    trades.negotiation.message_posted."""
    text = (body or "").strip() if isinstance(body, str) else ""
    if not text or len(text) > MESSAGE_MAX_LENGTH:
        raise MessageInvalid(
            f"A message is 1 to {MESSAGE_MAX_LENGTH} characters.",
            errors=[{"attr": "body", "code": "message_invalid", "detail": "1 to 2000 characters."}],
        )
    with transaction.atomic():
        negotiation = _locked_for_party(negotiation_id)
        side = acting_side(
            actor,
            organization_id=negotiation.organization_id,
            buyer=negotiation.buyer,
            seller=negotiation.seller,
            staff_perm=NEGOTIATE_FOR_PARTNER,
            on_behalf_of=on_behalf_of,
        )
        if negotiation.status not in OPEN_NEGOTIATION_STATES:
            raise NegotiationClosed(negotiation.status)
        message = NegotiationMessage.objects.create(
            negotiation=negotiation, kind=MessageKind.PARTY, side=side, author=actor, body=text
        )
        emit_negotiation_event(
            events.NEGOTIATION_MESSAGE_POSTED,
            negotiation,
            actor,
            message={"id": str(message.pk), "side": side, "body": text},
        )
    return message

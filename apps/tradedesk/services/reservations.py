"""Reservations of availability quantity (SPEC section 7), for the negotiation and trade services
(and the desk's manual holds): reserve, release, sell, and the beat job that expires them.

Quantities move only by conditional UPDATEs checked by their row count, never by a Python
read-modify-write, and the database's check constraints (available + reserved + sold = total,
all non-negative) refuse anything that would break the invariant even if this code were wrong:

- reserve: `UPDATE ... SET available = available - q, reserved = reserved + q WHERE status =
  ACTIVE AND expires_at > now AND available >= q AND (available = q OR (partial_allowed AND
  min_order <= q))`, so concurrent reservations can never oversell; the status turns RESERVED in
  the same statement when nothing remains available;
- release / expiry: reserved back to available (RESERVED -> ACTIVE);
- sell: reserved to sold (SOLD when everything is sold).

Locks: the availability row, then the reservation row (`locks`), the one order every trade-desk
service follows. Authorisation is the caller's business (negotiation and trade services, or the
desk API through `ensure_desk_can_manage_reservations`): these functions take `actor` only to
record who did it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import PermissionDenied
from apps.core.sql import JoinedRead, execute_prepared, insert_select
from apps.events.emit import emit_in_statement, emitted_in_statement
from apps.partners.permissions import is_staff_of
from apps.tradedesk import events
from apps.tradedesk.errors import (
    AvailabilityExpired,
    AvailabilityInvalid,
    AvailabilityNotFound,
    BelowMinimumOrder,
    InsufficientQuantity,
    InvalidTransition,
    PartialOrderNotAllowed,
    ReservationNotFound,
)
from apps.tradedesk.inputs import Inputs, dec, instant
from apps.tradedesk.locks import lock_availability, lock_reservation
from apps.tradedesk.models import Availability, AvailabilityStatus, Reservation, ReservationStatus
from apps.tradedesk.services.availabilities import availability_payload, emit_availability_event

MANAGE_RESERVATIONS = "tradedesk.change_availability"
PURPOSE_MAX_LENGTH = 20
REFERENCE_MAX_LENGTH = 64
_ATTEMPTS = 3

ACTIVE = AvailabilityStatus.ACTIVE
RESERVED = AvailabilityStatus.RESERVED
SOLD = AvailabilityStatus.SOLD

_in = Inputs(AvailabilityInvalid, noun="reservation")


def default_ttl() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "TRADEDESK_RESERVATION_TTL_MINUTES", 30)))


def owned_grace() -> timedelta:
    """How long after an owned reservation's expiry the trade desk's job may take it (the owner
    releases it itself first; this is the safety net)."""
    return timedelta(minutes=int(getattr(settings, "TRADEDESK_OWNED_RESERVATION_GRACE_MINUTES", 15)))


OWNER_TYPE_MAX_LENGTH = 40


def ensure_desk_can_manage_reservations(actor: User, availability: Availability) -> None:
    """The desk's manual reservations (API): staff of the availability's organization with
    tradedesk.change_availability. Outside the organization (or not staff) 404, without it 403."""
    if not is_staff_of(actor, availability.organization_id):
        raise AvailabilityNotFound()
    if not actor.has_perm(MANAGE_RESERVATIONS):
        raise PermissionDenied(f"Reserving and releasing quantity needs the {MANAGE_RESERVATIONS} capability.")


def _quantity(raw: object) -> Decimal:
    quantity = _in.number(raw, "quantity_kg", places=3, max_digits=16)
    if quantity <= 0:
        raise AvailabilityInvalid(
            "quantity_kg", "quantity_invalid", f"quantity_kg must be more than zero; got {quantity}."
        )
    return quantity


def _text(value: str, attr: str, max_length: int, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise AvailabilityInvalid(attr, "required", f"{attr} is required (e.g. NEGOTIATION, TRADE, MANUAL).")
    if len(value) > max_length:
        raise AvailabilityInvalid(attr, "too_long", f"{attr} has at most {max_length} characters.")
    return value


def _buyer_invalid() -> AvailabilityInvalid:
    return AvailabilityInvalid(
        "buyer_id", "buyer_invalid", "The buyer is another partner of the availability's organization."
    )


# The read of a reservation (issue 15): compiling the ORM's query (the five joins, the invitees'
# array, the buyer's EXISTS) took about two thirds of a reservation's time, so it is written once
# (core.sql.JoinedRead) and runs as a prepared statement; test_reservations_sql.py holds it equal
# to the ORM's select_related/ArraySubquery/Exists read it replaced.
_RESERVING = JoinedRead(Availability, ("commodity", "variety", "quantity_unit", "price_unit", "delivery_term"))
_RESERVING_SQL = _RESERVING.sql(
    extra=(
        "ARRAY(SELECT i.businesspartner_id FROM tradedesk_availability_invited_partners i "
        "WHERE i.availability_id = t0.id) AS invited_ids, "
        "EXISTS(SELECT 1 FROM partners_businesspartner b WHERE b.id = %(buyer_id)s "
        "AND b.organization_id = t0.organization_id AND b.id <> t0.partner_id) AS buyer_allowed"
    ),
    where="t0.id = %(availability_id)s",
)


def _read_for_reserving(availability_id: UUID, buyer_id: UUID | None) -> Any:
    """The availability with what its event's payload names (the five joins), its invitees
    (`invited_ids`) and whether `buyer_id` is another partner of its organization
    (`buyer_allowed`; False without a buyer): one query, before any lock."""
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            _RESERVING_SQL,
            {"availability_id": availability_id, "buyer_id": buyer_id},
            bound=("availability_id", "buyer_id"),
        )
        row = cursor.fetchone()
    if row is None:
        raise AvailabilityNotFound()
    availability, (invited_ids, buyer_allowed) = _RESERVING.build(row)
    availability.invited_ids = invited_ids
    availability.buyer_allowed = buyer_allowed
    return availability


def _explain_refusal(availability_id: UUID, quantity: Decimal, now: datetime) -> None:
    """Why the conditional UPDATE matched nothing, read after it (the row may have moved since:
    when nothing is wrong any more, return and let the caller try again)."""
    availability = Availability.objects.filter(pk=availability_id).first()
    if availability is None:
        raise AvailabilityNotFound()
    available = availability.available_kg
    if availability.status == RESERVED or (availability.status == ACTIVE and available < quantity):
        raise InsufficientQuantity(
            f"Only {available} kg is available; {quantity} kg was asked.", extra={"available_kg": str(available)}
        )
    if availability.status != ACTIVE:
        raise InvalidTransition(action="reserve", current=availability.status, allowed=(ACTIVE,))
    if availability.expires_at <= now:
        raise AvailabilityExpired()
    if quantity != available and not availability.partial_allowed:
        raise PartialOrderNotAllowed(
            f"This availability is sold whole: reserve all {available} kg.", extra={"available_kg": str(available)}
        )
    if quantity != available and quantity < availability.min_order_kg:
        raise BelowMinimumOrder(
            f"The minimum order is {availability.min_order_kg} kg (or all {available} kg available).",
            extra={"min_order_kg": str(availability.min_order_kg), "available_kg": str(available)},
        )


def _reservation_extra(reservation: Reservation, **more: Any) -> dict[str, Any]:
    return {
        "reservation_id": str(reservation.pk),
        "quantity_kg": dec(reservation.quantity_kg, 3),
        "reservation_status": reservation.status,
        "purpose": reservation.purpose,
        "reference": reservation.reference,
        **more,
    }


# What a reservation's UPDATE changes on the availability (its statement returns them).
_MOVED = ("available_kg", "reserved_kg", "sold_kg", "status", "updated_at")


def availability_reserve(
    *,
    availability_id: UUID,
    quantity_kg: Decimal,
    purpose: str,
    reference: str = "",
    buyer_id: UUID | None = None,
    actor: User | None = None,
    ttl: timedelta | None = None,
    owner_type: str | None = None,
    owner_id: UUID | None = None,
    expires_at: datetime | None = None,
) -> Reservation:
    """Hold `quantity_kg` of an ACTIVE availability until released, sold or `ttl` (default
    TRADEDESK_RESERVATION_TTL_MINUTES) has passed. An owner (`owner_type` and `owner_id`, e.g.
    `trades.negotiation` and its id) may set its own `expires_at` instead of a ttl, and moves it
    on with reservation_extend / reservation_resize (see the model).

    One conditional UPDATE decides (see the module docstring), so concurrent reservations never
    together take more than is available. Refuses: 409 insufficient_quantity (with
    `available_kg`), 400 below_minimum_order (below the minimum order, unless it is all that is
    available), 400 partial_order_not_allowed (a whole-lot offer: only all of it), 409
    invalid_transition (not ACTIVE), 409 availability_expired (its window has passed), 400 for a
    quantity of zero or less, a blank purpose or a buyer outside the organization (or the seller
    itself). Nothing is written on refusal. Emits tradedesk.availability.reserved with the
    quantities after it (RESERVED when nothing remains available)."""
    quantity = _quantity(quantity_kg)
    purpose = _text(purpose, "purpose", PURPOSE_MAX_LENGTH, required=True).upper()
    reference = _text(reference, "reference", REFERENCE_MAX_LENGTH, required=False)
    owner_type = _owner(owner_type, owner_id)
    ttl = default_ttl() if ttl is None else ttl
    if ttl <= timedelta(0):
        raise AvailabilityInvalid("ttl", "ttl_invalid", "A reservation lasts a positive time.")
    if expires_at is not None and expires_at <= timezone.now():
        raise AvailabilityInvalid("expires_at", "expiry_invalid", "A reservation's expiry is in the future.")
    # Everything but the write happens before the availability's row lock (issue 15): the
    # five-join read, the buyer, the reservation row and the event's payload are ready when
    # the one statement of `_reserve_statement` takes the lock, and it is released when that
    # statement commits (at once in autocommit; with the caller's transaction otherwise).
    availability = _read_for_reserving(availability_id, buyer_id)
    if buyer_id is not None and not availability.buyer_allowed:
        raise _buyer_invalid()
    if availability.status not in (ACTIVE, RESERVED):
        # Only an ACTIVE or RESERVED availability has the frozen fields the payload read
        # above may use (a DRAFT changes; approval stamps it): refuse as the UPDATE would.
        raise InvalidTransition(action="reserve", current=availability.status, allowed=(ACTIVE,))
    now = timezone.now()
    reservation = Reservation(
        availability=availability,
        quantity_kg=quantity,
        purpose=purpose,
        reference=reference,
        buyer_id=buyer_id,
        created_by=actor,
        expires_at=expires_at or now + ttl,
        owner_type=owner_type,
        owner_id=owner_id if owner_type else None,
    )
    statement = _reserve_statement(
        availability, reservation, actor, quantity, now, invited_ids=availability.invited_ids
    )
    for _attempt in range(_ATTEMPTS):
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            moved = cursor.fetchone()
        if moved is not None:
            break
        _explain_refusal(availability_id, quantity, now)
    else:
        raise InsufficientQuantity()
    emitted_in_statement()
    for name, value in zip(_MOVED, moved, strict=True):
        setattr(availability, name, value)
    reservation._state.adding = False  # written, as create() leaves it
    reservation._state.db = connection.alias
    return reservation


def _reserve_statement(
    availability: Availability,
    reservation: Reservation,
    actor: User | None,
    quantity: Decimal,
    now: datetime,
    *,
    invited_ids: list[UUID],
) -> tuple[str, list[Any]]:
    """One statement: the conditional UPDATE (the module docstring's), and from its RETURNING
    the reservation's INSERT and the tradedesk.availability.reserved event's (the rows the ORM
    and emit_availability_event write: test_reservations_sql). It returns the moved columns,
    or no row when the UPDATE matched nothing (then nothing is written).

    The reservation's foreign key takes KEY SHARE on the availability at the end of the
    statement, when the UPDATE already holds the row: no wait on release/sell's FOR UPDATE
    in between (the deadlock an INSERT before the UPDATE could meet)."""
    extra = _reservation_extra(reservation, reservation_expires_at=instant(reservation.expires_at))
    insert_reservation, reservation_params = insert_select(reservation, source="moved")
    insert_event, event_params = emit_in_statement(
        events.AVAILABILITY_RESERVED,
        source="moved",
        aggregate_type=Availability._meta.label_lower,
        aggregate_id=availability.pk,
        organization_id=availability.organization_id,
        partner_id=availability.partner_id,
        actor=actor,
        payload={**availability_payload(availability, invited_ids=invited_ids), **extra},
        # The quantities and status as the UPDATE left them, formatted as `dec(value, 3)`
        # formats them (the columns have three decimals: numeric's text is that string).
        payload_sql=(
            "jsonb_build_object('status', moved.status, 'available_kg', moved.available_kg::text, "
            "'reserved_kg', moved.reserved_kg::text, 'sold_kg', moved.sold_kg::text)",
            [],
        ),
    )
    sql = f"""
        WITH moved AS (
            UPDATE tradedesk_availability
            SET available_kg = available_kg - %s,
                reserved_kg = reserved_kg + %s,
                status = CASE WHEN available_kg = %s THEN %s ELSE %s END,
                updated_at = %s
            WHERE id = %s AND status = %s AND expires_at > %s AND available_kg >= %s
                AND (available_kg = %s OR (partial_allowed AND min_order_kg <= %s))
            RETURNING {", ".join(_MOVED)}
        ),
        reservation AS ({insert_reservation} RETURNING 1),
        event AS ({insert_event} RETURNING 1)
        SELECT {", ".join(_MOVED)} FROM moved
    """  # noqa: S608 (names from the models and constants; every value is a param)
    update_params = [
        *(quantity, quantity, quantity, RESERVED, ACTIVE, now),
        *(availability.pk, ACTIVE, now, quantity, quantity, quantity),
    ]
    return sql, [*update_params, *reservation_params, *event_params]


def _owner(owner_type: str | None, owner_id: UUID | None) -> str | None:
    owner_type = (owner_type or "").strip() or None
    if (owner_type is None) != (owner_id is None):
        raise AvailabilityInvalid("owner_id", "owner_incomplete", "An owner is a type and an id, or neither.")
    if owner_type is not None and len(owner_type) > OWNER_TYPE_MAX_LENGTH:
        raise AvailabilityInvalid(
            "owner_type", "too_long", f"owner_type has at most {OWNER_TYPE_MAX_LENGTH} characters."
        )
    return owner_type


def _lock_pair(reservation_id: UUID) -> tuple[Availability, Reservation]:
    """The availability, then the reservation, both FOR UPDATE (the trade desk's lock order)."""
    availability_id = Reservation.objects.filter(pk=reservation_id).values_list("availability_id", flat=True).first()
    if availability_id is None:
        raise ReservationNotFound()
    return lock_availability(availability_id), lock_reservation(reservation_id)


def _give_back(
    availability: Availability, reservation: Reservation, *, status: str, reason: str, actor: User | None, now: datetime
) -> None:
    """An ACTIVE reservation's quantity back to available (RESERVED -> ACTIVE), the reservation
    closed with `status`, and tradedesk.availability.released emitted. Both rows are locked."""
    quantity = reservation.quantity_kg
    updated = Availability.objects.filter(pk=availability.pk, reserved_kg__gte=quantity).update(
        available_kg=F("available_kg") + quantity,
        reserved_kg=F("reserved_kg") - quantity,
        status=Case(When(status=RESERVED, then=Value(ACTIVE)), default=F("status")),
        updated_at=now,
    )
    if updated != 1:  # the constraints make this unreachable; say so loudly if it is not
        raise RuntimeError(f"reservation {reservation.pk} holds more than its availability has reserved")
    availability.refresh_from_db()
    reservation.status = status
    reservation.closed_at = now
    reservation.save(update_fields=["status", "closed_at", "updated_at"])
    emit_availability_event(
        events.AVAILABILITY_RELEASED, availability, actor, **_reservation_extra(reservation, reason=reason)
    )


def availability_release(*, reservation_id: UUID, actor: User | None = None, reason: str = "") -> Reservation:
    """ACTIVE reservation -> RELEASED: its quantity is available again (a RESERVED availability
    becomes ACTIVE). 409 invalid_transition for a reservation already released, sold or expired.
    Emits tradedesk.availability.released with the reason."""
    reason = _text(reason, "reason", 500, required=False)
    with transaction.atomic():
        availability, reservation = _lock_pair(reservation_id)
        if reservation.status != ReservationStatus.ACTIVE:
            raise InvalidTransition(action="release", current=reservation.status, allowed=(ReservationStatus.ACTIVE,))
        _give_back(
            availability,
            reservation,
            status=ReservationStatus.RELEASED,
            reason=reason or "released",
            actor=actor,
            now=timezone.now(),
        )
    return reservation


def availability_sell(*, reservation_id: UUID, actor: User | None = None) -> Reservation:
    """ACTIVE reservation -> SOLD: its quantity moves from reserved to sold; the availability is
    SOLD once everything is sold. A reservation past its expiry that the beat job has not yet
    taken may still be sold (the quantity was held for it all along). 409 invalid_transition
    for a reservation no longer ACTIVE. Emits tradedesk.availability.sold."""
    with transaction.atomic():
        availability, reservation = _lock_pair(reservation_id)
        if reservation.status != ReservationStatus.ACTIVE:
            raise InvalidTransition(action="sell", current=reservation.status, allowed=(ReservationStatus.ACTIVE,))
        quantity = reservation.quantity_kg
        now = timezone.now()
        updated = Availability.objects.filter(pk=availability.pk, reserved_kg__gte=quantity).update(
            reserved_kg=F("reserved_kg") - quantity,
            sold_kg=F("sold_kg") + quantity,
            status=Case(When(sold_kg=F("total_kg") - quantity, then=Value(SOLD)), default=F("status")),
            updated_at=now,
        )
        if updated != 1:
            raise RuntimeError(f"reservation {reservation.pk} holds more than its availability has reserved")
        availability.refresh_from_db()
        reservation.status = ReservationStatus.SOLD
        reservation.closed_at = now
        reservation.save(update_fields=["status", "closed_at", "updated_at"])
        emit_availability_event(events.AVAILABILITY_SOLD, availability, actor, **_reservation_extra(reservation))
    return reservation


def reservations_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """ACTIVE reservations whose expiry has come (an owned one's plus the grace) -> EXPIRED, their quantity available again (as
    a release, with tradedesk.availability.released, reason `reservation_expired`). Beat, every
    minute. Idempotent, and it never waits: an availability or reservation locked by a
    concurrent change is skipped (SKIP LOCKED) and taken on the next run. Returns how many
    expired."""
    now = now or timezone.now()
    # An owned reservation is its owner's to release; the job takes it only after a grace.
    due_filter = Q(owner_type__isnull=True, expires_at__lte=now) | Q(
        owner_type__isnull=False, expires_at__lte=now - owned_grace()
    )
    expired = 0
    while True:
        due = list(
            Reservation.objects.filter(due_filter, status=ReservationStatus.ACTIVE)
            .order_by("expires_at", "id")
            .values_list("pk", "availability_id")[:batch_size]
        )
        done = 0
        for reservation_id, availability_id in due:
            with transaction.atomic():
                availability = (
                    Availability.objects.select_for_update(skip_locked=True).filter(pk=availability_id).first()
                )
                if availability is None:
                    continue
                reservation = (
                    Reservation.objects.select_for_update(skip_locked=True)
                    .filter(due_filter, pk=reservation_id, status=ReservationStatus.ACTIVE)
                    .first()
                )
                if reservation is None:
                    continue
                _give_back(
                    availability,
                    reservation,
                    status=ReservationStatus.EXPIRED,
                    reason="reservation_expired",
                    actor=None,
                    now=now,
                )
                done += 1
        expired += done
        if len(due) < batch_size or done == 0:
            return expired


def reservation_extend(*, reservation_id: UUID, expires_at: datetime, actor: User | None = None) -> Reservation:
    """Move an ACTIVE reservation's expiry to `expires_at` (its owner keeps it as long as it
    lives: a negotiation moves it on with every offer). 409 invalid_transition when no longer
    ACTIVE; 400 expiry_invalid for a time in the past. No event (nothing on the market moves)."""
    if expires_at <= timezone.now():
        raise AvailabilityInvalid("expires_at", "expiry_invalid", "A reservation's expiry is in the future.")
    with transaction.atomic():
        _availability, reservation = _lock_pair(reservation_id)
        if reservation.status != ReservationStatus.ACTIVE:
            raise InvalidTransition(action="extend", current=reservation.status, allowed=(ReservationStatus.ACTIVE,))
        reservation.expires_at = expires_at
        reservation.save(update_fields=["expires_at", "updated_at"])
    return reservation


def reservation_resize(
    *,
    reservation_id: UUID,
    quantity_kg: Decimal,
    actor: User | None = None,
    expires_at: datetime | None = None,
) -> Reservation:
    """Move an ACTIVE reservation to `quantity_kg` in one step: the difference is taken from (or
    given back to) the availability by one conditional UPDATE, so it never oversells.

    Locks the availability, then the reservation. The new quantity obeys the reservation rules
    as a fresh reservation of it would (the minimum order unless it takes everything left,
    whole lots whole), measured against what is available plus what this reservation already
    holds. Refuses like availability_reserve (409 insufficient_quantity, 400
    below_minimum_order / partial_order_not_allowed, 409 availability_expired for a growth past
    the offer's window) and 409 invalid_transition for a reservation no longer ACTIVE; nothing
    changes on refusal. Optionally moves the expiry. Emits tradedesk.availability.reserved
    (growth) or tradedesk.availability.released (shrink) with `resized_from_kg`."""
    quantity = _quantity(quantity_kg)
    if expires_at is not None and expires_at <= timezone.now():
        raise AvailabilityInvalid("expires_at", "expiry_invalid", "A reservation's expiry is in the future.")
    with transaction.atomic():
        availability, reservation = _lock_pair(reservation_id)
        if reservation.status != ReservationStatus.ACTIVE:
            raise InvalidTransition(action="resize", current=reservation.status, allowed=(ReservationStatus.ACTIVE,))
        held = reservation.quantity_kg
        delta = quantity - held
        now = timezone.now()
        if delta:
            _check_resize(availability, held, quantity, now)
        if delta > 0:
            takes_all = Q(available_kg=delta)
            updated = Availability.objects.filter(pk=availability.pk, status=ACTIVE, available_kg__gte=delta).update(
                available_kg=F("available_kg") - delta,
                reserved_kg=F("reserved_kg") + delta,
                status=Case(When(takes_all, then=Value(RESERVED)), default=Value(ACTIVE)),
                updated_at=now,
            )
            if updated != 1:  # the row is locked and was checked: unreachable unless the rules changed
                raise InsufficientQuantity()
        elif delta < 0:
            updated = Availability.objects.filter(pk=availability.pk, reserved_kg__gte=-delta).update(
                available_kg=F("available_kg") - delta,
                reserved_kg=F("reserved_kg") + delta,
                status=Case(When(status=RESERVED, then=Value(ACTIVE)), default=F("status")),
                updated_at=now,
            )
            if updated != 1:
                raise RuntimeError(f"reservation {reservation.pk} holds more than its availability has reserved")
        reservation.quantity_kg = quantity
        if expires_at is not None:
            reservation.expires_at = expires_at
        reservation.save(update_fields=["quantity_kg", "expires_at", "updated_at"])
        if delta:
            availability.refresh_from_db()
            emit_availability_event(
                events.AVAILABILITY_RESERVED if delta > 0 else events.AVAILABILITY_RELEASED,
                availability,
                actor,
                **_reservation_extra(reservation, resized_from_kg=dec(held, 3), reason="resized"),
            )
    return reservation


def _check_resize(availability: Availability, held: Decimal, quantity: Decimal, now: datetime) -> None:
    """The rules of reserving `quantity` when `held` is already ours (the row is locked): a
    growth needs the quantity and a live offer; any new size obeys the minimum order and the
    whole-lot rule."""
    delta = quantity - held
    available = availability.available_kg
    within_reach = available + held
    if delta > 0:
        if availability.status == RESERVED or available < delta:
            raise InsufficientQuantity(
                f"Only {within_reach} kg can be held ({available} kg more); {quantity} kg was asked.",
                extra={"available_kg": str(available)},
            )
        if availability.status != ACTIVE:
            raise InvalidTransition(action="reserve", current=availability.status, allowed=(ACTIVE,))
        if availability.expires_at <= now:
            raise AvailabilityExpired()
    if quantity != within_reach and not availability.partial_allowed:
        raise PartialOrderNotAllowed(
            f"This availability is sold whole: hold all {within_reach} kg.", extra={"available_kg": str(available)}
        )
    if quantity != within_reach and quantity < availability.min_order_kg:
        raise BelowMinimumOrder(
            f"The minimum order is {availability.min_order_kg} kg (or all {within_reach} kg).",
            extra={"min_order_kg": str(availability.min_order_kg), "available_kg": str(available)},
        )


def availability_return_sold(
    *, availability_id: UUID, quantity_kg: Decimal, reference: str = "", actor: User | None = None
) -> Availability:
    """Give `quantity_kg` sold by a trade back to available (a cancelled or shrunk trade: what
    was not delivered goes back on the market). One conditional UPDATE (`sold >= q`); a SOLD or
    RESERVED availability becomes ACTIVE (an expired or cancelled one keeps its state, with the
    quantity available but off the market). 409 insufficient_quantity when less than that is
    sold. Emits tradedesk.availability.released with `returned_from_sale`."""
    quantity = _quantity(quantity_kg)
    reference = _text(reference, "reference", REFERENCE_MAX_LENGTH, required=False)
    with transaction.atomic():
        lock_availability(availability_id)
        now = timezone.now()
        updated = Availability.objects.filter(pk=availability_id, sold_kg__gte=quantity).update(
            available_kg=F("available_kg") + quantity,
            sold_kg=F("sold_kg") - quantity,
            status=Case(When(status__in=(SOLD, RESERVED), then=Value(ACTIVE)), default=F("status")),
            updated_at=now,
        )
        availability = Availability.objects.select_related(
            "commodity", "variety", "quantity_unit", "price_unit", "delivery_term"
        ).get(pk=availability_id)
        if updated != 1:
            raise InsufficientQuantity(
                f"Only {availability.sold_kg} kg is sold; {quantity} kg cannot be returned.",
                extra={"sold_kg": str(availability.sold_kg)},
            )
        emit_availability_event(
            events.AVAILABILITY_RELEASED,
            availability,
            actor,
            returned_from_sale=True,
            quantity_kg=dec(quantity, 3),
            reference=reference,
            reason="sale_returned",
        )
    return availability

"""The one-statement reservation (issue 15) against the ORM path it replaced: for the same data
the same refusal or the same rows (availability, reservation, outbox event as emit() writes it,
audit history with its context), and the row lock held only inside the statement."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pghistory
import pytest
from django.apps import apps
from django.db import connection, connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner
from apps.tradedesk import events
from apps.tradedesk.errors import AvailabilityInvalid, AvailabilityNotFound, InsufficientQuantity
from apps.tradedesk.inputs import instant
from apps.tradedesk.models import Availability, Reservation
from apps.tradedesk.services import reservations as services
from apps.tradedesk.services.availabilities import emit_availability_event
from apps.tradedesk.tests import factories

AvailabilityEvent = apps.get_model("tradedesk", "AvailabilityEvent")
ReservationEvent = apps.get_model("tradedesk", "ReservationEvent")


def _reserve_orm(
    *,
    availability_id: Any,
    quantity_kg: Decimal,
    purpose: str,
    reference: str = "",
    buyer_id: Any = None,
    actor: Any = None,
    owner_type: str | None = None,
    owner_id: Any = None,
    expires_at: datetime,
) -> Reservation:
    """The ORM path before issue 15 (conditional UPDATE, Reservation.objects.create, emit), the
    reference the statement is held to."""
    quantity = services._quantity(quantity_kg)
    purpose = services._text(purpose, "purpose", services.PURPOSE_MAX_LENGTH, required=True).upper()
    reference = services._text(reference, "reference", services.REFERENCE_MAX_LENGTH, required=False)
    owner_type = services._owner(owner_type, owner_id)
    with transaction.atomic():
        availability = (
            Availability.objects.select_related("commodity", "variety", "quantity_unit", "price_unit", "delivery_term")
            .filter(pk=availability_id)
            .first()
        )
        if availability is None:
            raise AvailabilityNotFound()
        buyer = None
        if buyer_id is not None:
            buyer = BusinessPartner.objects.filter(pk=buyer_id, organization_id=availability.organization_id).first()
            if buyer is None or buyer.pk == availability.partner_id:
                raise services._buyer_invalid()
        now = timezone.now()
        takes_all = Q(available_kg=quantity)
        for _attempt in range(3):
            updated = (
                Availability.objects.filter(
                    pk=availability_id, status="ACTIVE", expires_at__gt=now, available_kg__gte=quantity
                )
                .filter(takes_all | (Q(partial_allowed=True) & Q(min_order_kg__lte=quantity)))
                .update(
                    available_kg=F("available_kg") - quantity,
                    reserved_kg=F("reserved_kg") + quantity,
                    status=Case(When(takes_all, then=Value("RESERVED")), default=Value("ACTIVE")),
                    updated_at=now,
                )
            )
            if updated:
                break
            services._explain_refusal(availability_id, quantity, now)
        else:
            raise InsufficientQuantity()
        availability.refresh_from_db()
        reservation = Reservation.objects.create(
            availability=availability,
            quantity_kg=quantity,
            purpose=purpose,
            reference=reference,
            buyer=buyer,
            created_by=actor,
            expires_at=expires_at,
            owner_type=owner_type,
            owner_id=owner_id if owner_type else None,
        )
        emit_availability_event(
            events.AVAILABILITY_RESERVED,
            availability,
            actor,
            **services._reservation_extra(reservation, reservation_expires_at=instant(reservation.expires_at)),
        )
    return reservation


class _Undo(Exception):
    pass


# Differ by construction between two writes of the same data: ids, times taken by the clock,
# the sequence's position, the transaction id.
_VOLATILE = {"id", "created_at", "updated_at", "position", "txid", "occurred_at", "next_attempt_at"}
_HISTORY_VOLATILE = {"pgh_id", "pgh_created_at", "pgh_obj_id", "pgh_context_id", "id", "created_at", "updated_at"}


def _rows(availability: Availability) -> dict[str, Any]:
    reservations = list(Reservation.objects.filter(availability=availability).values())
    reservation_ids = {str(row["id"]) for row in reservations}
    outbox = list(OutboxEvent.objects.filter(aggregate_id=str(availability.pk)).values())
    for row in outbox:
        assert row["payload"].pop("reservation_id") in reservation_ids
    return {
        "availability": _without(Availability.objects.filter(pk=availability.pk).values().get(), _VOLATILE),
        "reservations": [_without(row, _VOLATILE) for row in reservations],
        "outbox": [_without(row, _VOLATILE) for row in outbox],
        "availability_history": [
            _without(row, _HISTORY_VOLATILE)
            for row in AvailabilityEvent.objects.filter(pgh_obj_id=availability.pk).values(
                *[f.attname for f in AvailabilityEvent._meta.concrete_fields], "pgh_context__metadata"
            )
        ],
        "reservation_history": [
            _without(row, _HISTORY_VOLATILE)
            for row in ReservationEvent.objects.filter(availability_id=availability.pk).values(
                *[f.attname for f in ReservationEvent._meta.concrete_fields], "pgh_context__metadata"
            )
        ],
    }


def _without(row: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in keys}


def _outcome(reserve: Callable[..., Reservation], availability: Availability, **arguments: Any) -> tuple[Any, Any]:
    """What `reserve` answers and writes, undone afterwards so the other path starts from the
    same rows."""
    try:
        with transaction.atomic(), pghistory.context(user="desk-7", request_id="req-issue-15"):
            try:
                reserve(availability_id=availability.pk, **arguments)
                answer: Any = "reserved"
            except DomainError as exc:
                answer = (exc.code, exc.status, exc.extra)
            rows = _rows(availability)
            raise _Undo
    except _Undo:
        return answer, rows


CASES = [
    ({}, {"quantity_kg": Decimal("3000"), "reference": "NG-1"}, "reserved"),
    ({}, {"quantity_kg": Decimal("1234.5"), "purpose": " trade "}, "reserved"),
    ({}, {"quantity_kg": Decimal("17000")}, "reserved"),  # everything: RESERVED
    ({"visibility": "RESTRICTED"}, {"quantity_kg": Decimal("1700")}, "reserved"),  # with invitees
    ({}, {"quantity_kg": Decimal("1700"), "owner_type": "trades.negotiation"}, "reserved"),
    ({}, {"quantity_kg": Decimal("17000.001")}, "insufficient_quantity"),
    ({"min_order_kg": Decimal("1700")}, {"quantity_kg": Decimal("1699.999")}, "below_minimum_order"),
    ({"partial_allowed": False}, {"quantity_kg": Decimal("16999")}, "partial_order_not_allowed"),
    ({"status": "DRAFT"}, {"quantity_kg": Decimal("100")}, "invalid_transition"),
    ({"status": "SOLD"}, {"quantity_kg": Decimal("100")}, "invalid_transition"),
    ({"expires_at": timezone.now() - timedelta(seconds=1)}, {"quantity_kg": Decimal("100")}, "availability_expired"),
    ({}, {"quantity_kg": Decimal("100"), "buyer_id": "seller"}, "buyer_invalid"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "arguments", "expected"), CASES)
def test_the_statement_writes_what_the_orm_path_writes(seller, buyer, cotton, fields, arguments, expected):
    availability = factories.availability(seller, cotton, **fields)
    if fields.get("visibility") == "RESTRICTED":
        availability.invited_partners.set([buyer])
    arguments = {
        "purpose": "NEGOTIATION",
        "actor": seller.owner,
        "buyer_id": buyer.pk,
        "expires_at": timezone.now() + timedelta(minutes=30),
        **arguments,
    }
    if arguments["buyer_id"] == "seller":
        arguments["buyer_id"] = seller.pk
    if "owner_type" in arguments:
        arguments["owner_id"] = availability.pk  # any uuid: the owner is plain data here

    answer, rows = _outcome(services.availability_reserve, availability, **arguments)
    orm_answer, orm_rows = _outcome(_reserve_orm, availability, **arguments)

    assert (answer if answer == "reserved" else answer[0]) == expected
    assert answer == orm_answer
    assert rows == orm_rows
    if expected == "reserved":
        assert len(rows["reservations"]) == len(rows["outbox"]) == len(rows["reservation_history"]) == 1
        assert rows["outbox"][0]["type"] == events.AVAILABILITY_RESERVED
        assert rows["availability_history"][-1]["pgh_context__metadata"] == {
            "user": "desk-7",
            "request_id": "req-issue-15",
        }
    else:
        assert (rows["reservations"], rows["outbox"], rows["reservation_history"]) == ([], [], [])


@pytest.mark.django_db
def test_the_returned_reservation_is_the_row_written(seller, buyer, cotton):
    availability = factories.availability(seller, cotton)

    reservation = services.availability_reserve(
        availability_id=availability.pk, quantity_kg=Decimal("3000"), purpose="negotiation", buyer_id=buyer.pk
    )

    stored = Reservation.objects.get(pk=reservation.pk)
    assert {f.attname: getattr(reservation, f.attname) for f in Reservation._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in Reservation._meta.concrete_fields
    }
    assert reservation._state.adding is False
    moved = (
        reservation.availability.available_kg,
        reservation.availability.reserved_kg,
        reservation.availability.status,
    )
    assert moved == (Decimal("14000.000"), Decimal("3000.000"), "ACTIVE")


@pytest.mark.django_db
def test_an_unknown_buyer_is_refused_before_anything_is_written(seller, cotton):
    import uuid

    availability = factories.availability(seller, cotton)

    with pytest.raises(AvailabilityInvalid) as caught:
        services.availability_reserve(
            availability_id=availability.pk, quantity_kg=Decimal("100"), purpose="X", buyer_id=uuid.uuid4()
        )

    assert caught.value.code == "buyer_invalid"
    assert Reservation.objects.count() == OutboxEvent.objects.filter(aggregate_id=str(availability.pk)).count() == 0


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_statement_commits_alone_and_releases_the_row(seller, cotton):
    """In autocommit the statement is its own transaction: once it returns, the row is free (a
    NOWAIT lock from another connection succeeds) and everything it wrote is visible there."""
    availability = factories.availability(seller, cotton)
    assert not connection.in_atomic_block
    seen: dict[str, Any] = {}

    services.availability_reserve(availability_id=availability.pk, quantity_kg=Decimal("3000"), purpose="TRADE")

    def other_connection() -> None:
        try:
            with transaction.atomic():
                locked = Availability.objects.select_for_update(nowait=True).get(pk=availability.pk)
                seen["available_kg"] = locked.available_kg
                seen["rows"] = (
                    Reservation.objects.filter(availability=availability).count(),
                    OutboxEvent.objects.filter(aggregate_id=str(availability.pk)).count(),
                )
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_connection)
    thread.start()
    thread.join(timeout=30)
    assert seen == {"available_kg": Decimal("14000.000"), "rows": (1, 1)}


def _read_orm(availability_id: Any, buyer_id: Any) -> Availability | None:
    """The ORM read the prepared one replaced (select_related, the invitees' array, the buyer's
    EXISTS), the reference `_read_for_reserving` is held to."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import Exists, OuterRef

    invited = Availability.invited_partners.through.objects.filter(availability_id=OuterRef("pk"))
    found = Availability.objects.select_related(
        "commodity", "variety", "quantity_unit", "price_unit", "delivery_term"
    ).annotate(invited_ids=ArraySubquery(invited.values("businesspartner_id")))
    if buyer_id is not None:
        buyer = BusinessPartner.objects.filter(pk=buyer_id, organization_id=OuterRef("organization_id"))
        found = found.annotate(buyer_allowed=Exists(buyer.exclude(pk=OuterRef("partner_id"))))
    return found.filter(pk=availability_id).first()


def _fields(instance: Any) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.django_db
@pytest.mark.parametrize("prepared", [32, 0], ids=["prepared", "plain"])
def test_the_read_for_reserving_is_the_orm_read(seller, buyer, foreign_partner, cotton, settings, prepared):
    settings.SQL_PREPARED_STATEMENTS = prepared
    from apps.commodities.models import TermKind
    from apps.commodities.tests.factories import TradeTermFactory

    plain = factories.availability(seller, cotton)  # no variety, no delivery term, no invitee
    full = factories.availability(
        seller,
        cotton,
        variety=cotton.varieties.get(code="SHANKAR-6"),
        delivery_term=TradeTermFactory(kind=TermKind.DELIVERY, code="EX_GIN"),
        quality={"staple_length": 29.5, "micronaire": 4.1, "note": "it's 50%"},
    )
    full.invited_partners.set([buyer, foreign_partner])
    related = ("commodity", "variety", "quantity_unit", "price_unit", "delivery_term")
    for availability in (plain, full):
        for buyer_id in (buyer.pk, seller.pk, foreign_partner.pk, None):
            expected = _read_orm(availability.pk, buyer_id)
            read = services._read_for_reserving(availability.pk, buyer_id)
            assert _fields(read) == _fields(expected)
            assert read.quality == expected.quality
            assert sorted(read.invited_ids) == sorted(expected.invited_ids)
            assert read.buyer_allowed == (expected.buyer_allowed if buyer_id is not None else False)
            for name in related:
                mine, theirs = getattr(read, name), getattr(expected, name)  # cached: no query
                assert (mine is None) == (theirs is None)
                if theirs is not None:
                    assert _fields(mine) == _fields(theirs)
    # What each buyer may do, spelt out: another partner of the organization yes, the seller
    # itself and a partner of another organization no.
    assert services._read_for_reserving(full.pk, buyer.pk).buyer_allowed is True
    assert services._read_for_reserving(full.pk, seller.pk).buyer_allowed is False
    assert services._read_for_reserving(full.pk, foreign_partner.pk).buyer_allowed is False
    assert sorted(services._read_for_reserving(full.pk, None).invited_ids) == sorted([buyer.pk, foreign_partner.pk])
    assert services._read_for_reserving(plain.pk, None).variety is None


@pytest.mark.django_db
def test_the_read_for_reserving_reads_its_related_rows_in_one_query(seller, buyer, cotton, django_assert_num_queries):
    availability = factories.availability(seller, cotton, variety=cotton.varieties.get(code="SHANKAR-6"))
    with django_assert_num_queries(1):
        read = services._read_for_reserving(availability.pk, buyer.pk)
        codes = (read.commodity.code, read.variety.code, read.quantity_unit.code, read.price_unit.code)
        assert read.delivery_term is None
    assert codes == (cotton.code, "SHANKAR-6", availability.quantity_unit.code, availability.price_unit.code)


@pytest.mark.django_db
def test_an_unknown_availability_is_not_found_by_the_read(buyer):
    import uuid

    with pytest.raises(AvailabilityNotFound):
        services._read_for_reserving(uuid.uuid4(), buyer.pk)

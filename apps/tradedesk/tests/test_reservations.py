"""Reservations of availability quantity (SPEC section 7): conditional updates that never
oversell, the minimum-order and whole-lot rules, release, sale, the expiry job, and the database
constraints behind the invariant `available + reserved + sold = total`."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Sum
from django.utils import timezone

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.tradedesk import events
from apps.tradedesk.models import Availability, Reservation, ReservationStatus
from apps.tradedesk.services import reservations as services
from apps.tradedesk.tests import factories


def availability_events(event_type: str | None = None) -> Any:
    found = OutboxEvent.objects.filter(type__startswith="tradedesk.availability.")
    return found.filter(type=event_type) if event_type else found


def reserve(availability: Availability, kg: str, **options: Any) -> Reservation:
    options.setdefault("purpose", "NEGOTIATION")
    return services.availability_reserve(availability_id=availability.pk, quantity_kg=Decimal(kg), **options)


def refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def quantities(availability: Availability) -> tuple[Decimal, Decimal, Decimal, str]:
    availability.refresh_from_db()
    return availability.available_kg, availability.reserved_kg, availability.sold_kg, availability.status


def assert_adds_up(availability: Availability) -> None:
    availability.refresh_from_db()
    assert availability.available_kg + availability.reserved_kg + availability.sold_kg == availability.total_kg
    held = Reservation.objects.filter(availability=availability, status=ReservationStatus.ACTIVE).aggregate(
        total=Sum("quantity_kg")
    )["total"] or Decimal(0)
    sold = Reservation.objects.filter(availability=availability, status=ReservationStatus.SOLD).aggregate(
        total=Sum("quantity_kg")
    )["total"] or Decimal(0)
    assert (held, sold) == (availability.reserved_kg, availability.sold_kg)


# --- reserve -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reserving_moves_quantity_from_available_to_reserved(seller, buyer, cotton, settings):
    settings.TRADEDESK_RESERVATION_TTL_MINUTES = 45
    availability = factories.availability(seller, cotton)
    before = timezone.now()

    reservation = reserve(availability, "3000", reference="NG-1", buyer_id=buyer.pk)

    assert quantities(availability) == (Decimal("14000.000"), Decimal("3000.000"), Decimal("0.000"), "ACTIVE")
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity_kg, reservation.purpose, reservation.reference) == (
        "ACTIVE",
        Decimal("3000.000"),
        "NEGOTIATION",
        "NG-1",
    )
    assert reservation.buyer_id == buyer.pk
    assert before + timedelta(minutes=45) <= reservation.expires_at <= timezone.now() + timedelta(minutes=45)
    event = availability_events(events.AVAILABILITY_RESERVED).get()
    assert (event.organization_id, event.partner_id, event.aggregate_id) == (
        seller.organization_id,
        seller.pk,
        str(availability.pk),
    )
    assert {
        k: event.payload[k] for k in ("reservation_id", "quantity_kg", "available_kg", "reserved_kg", "status")
    } == {
        "reservation_id": str(reservation.pk),
        "quantity_kg": "3000.000",
        "available_kg": "14000.000",
        "reserved_kg": "3000.000",
        "status": "ACTIVE",
    }
    assert str(buyer.pk) not in repr(event.payload)


@pytest.mark.django_db
def test_reserving_everything_left_makes_it_reserved_and_releasing_makes_it_active(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))

    reservation = reserve(availability, "1000", ttl=timedelta(minutes=5))
    assert quantities(availability) == (Decimal("0.000"), Decimal("1000.000"), Decimal("0.000"), "RESERVED")

    services.availability_release(reservation_id=reservation.pk, reason="negotiation_rejected")

    assert quantities(availability) == (Decimal("1000.000"), Decimal("0.000"), Decimal("0.000"), "ACTIVE")
    reservation.refresh_from_db()
    assert reservation.status == "RELEASED"
    assert reservation.closed_at is not None
    released = availability_events(events.AVAILABILITY_RELEASED).get()
    assert (released.payload["reason"], released.payload["reservation_status"], released.payload["status"]) == (
        "negotiation_rejected",
        "RELEASED",
        "ACTIVE",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "asked", "code", "status"),
    [
        ({"kg": Decimal("1000")}, "1000.001", "insufficient_quantity", 409),
        ({"min_order_kg": Decimal("1700")}, "1699.999", "below_minimum_order", 400),
        ({"partial_allowed": False}, "16999", "partial_order_not_allowed", 400),
        ({"status": "DRAFT"}, "100", "invalid_transition", 409),
        ({"status": "PENDING_APPROVAL"}, "100", "invalid_transition", 409),
        ({"status": "SOLD"}, "100", "invalid_transition", 409),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "100", "availability_expired", 409),
        ({}, "0", "quantity_invalid", 400),
        ({}, "-1", "quantity_invalid", 400),
        ({}, "0.0001", "too_many_decimals", 400),
    ],
)
def test_a_reservation_that_breaks_a_rule_writes_nothing(seller, cotton, fields, asked, code, status):
    kg = fields.pop("kg", Decimal("17000"))
    availability = factories.availability(seller, cotton, kg=kg, **fields)
    before = quantities(availability)

    error = refused(lambda: reserve(availability, asked))

    assert (error.code, error.status) == (code, status)
    assert quantities(availability) == before
    assert Reservation.objects.count() == 0
    assert availability_events().count() == 0


@pytest.mark.django_db
def test_insufficient_quantity_says_how_much_is_available(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))
    reserve(availability, "1000")

    error = refused(lambda: reserve(availability, "1"))

    assert (error.code, error.extra["available_kg"]) == ("insufficient_quantity", "0.000")
    assert Reservation.objects.count() == 1


@pytest.mark.django_db
def test_the_last_of_an_availability_may_be_taken_below_the_minimum_order(seller, cotton):
    availability = factories.availability(seller, cotton, min_order_kg=Decimal("1700"))
    reserve(availability, "16000")

    assert refused(lambda: reserve(availability, "999")).code == "below_minimum_order"
    reserve(availability, "1000")

    assert quantities(availability) == (Decimal("0.000"), Decimal("17000.000"), Decimal("0.000"), "RESERVED")


@pytest.mark.django_db
def test_a_whole_lot_is_reserved_whole(seller, cotton):
    availability = factories.availability(seller, cotton, partial_allowed=False)

    reserve(availability, "17000")

    assert quantities(availability)[1:] == (Decimal("17000.000"), Decimal("0.000"), "RESERVED")


@pytest.mark.django_db
def test_a_buyer_outside_the_organization_or_the_seller_itself_is_refused(seller, cotton, foreign_partner):
    availability = factories.availability(seller, cotton)

    for buyer_id in (foreign_partner.pk, seller.pk):
        assert (
            refused(lambda buyer_id=buyer_id: reserve(availability, "100", buyer_id=buyer_id)).code == "buyer_invalid"
        )
    assert refused(lambda: reserve(availability, "100", purpose=" ")).code == "required"
    assert Reservation.objects.count() == 0
    assert availability_events().count() == 0


@pytest.mark.django_db
def test_an_unknown_availability_is_not_found(seller, cotton):
    import uuid

    error = refused(
        lambda: services.availability_reserve(availability_id=uuid.uuid4(), quantity_kg=Decimal("1"), purpose="X")
    )

    assert (error.status, error.code) == (404, "availability_not_found")


# --- release and sell ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reservation_is_released_only_once(seller, cotton):
    availability = factories.availability(seller, cotton)
    reservation = reserve(availability, "500")
    services.availability_release(reservation_id=reservation.pk)

    error = refused(lambda: services.availability_release(reservation_id=reservation.pk))

    assert (error.code, error.extra["current_state"]) == ("invalid_transition", "RELEASED")
    assert quantities(availability)[:2] == (Decimal("17000.000"), Decimal("0.000"))
    assert availability_events(events.AVAILABILITY_RELEASED).count() == 1


@pytest.mark.django_db
def test_selling_turns_reserved_into_sold_and_everything_sold_is_sold(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("10000"))
    first, second = reserve(availability, "4000"), reserve(availability, "6000")

    services.availability_sell(reservation_id=first.pk)
    assert quantities(availability) == (Decimal("0.000"), Decimal("6000.000"), Decimal("4000.000"), "RESERVED")

    services.availability_sell(reservation_id=second.pk)
    assert quantities(availability) == (Decimal("0.000"), Decimal("0.000"), Decimal("10000.000"), "SOLD")
    assert set(Reservation.objects.values_list("status", flat=True)) == {"SOLD"}
    sold = availability_events(events.AVAILABILITY_SOLD).order_by("position")
    assert [(e.payload["quantity_kg"], e.payload["status"]) for e in sold] == [
        ("4000.000", "RESERVED"),
        ("6000.000", "SOLD"),
    ]
    assert_adds_up(availability)


@pytest.mark.django_db
def test_a_partial_sale_leaves_the_rest_on_the_market(seller, cotton):
    availability = factories.availability(seller, cotton)
    services.availability_sell(reservation_id=reserve(availability, "1700").pk)

    assert quantities(availability) == (Decimal("15300.000"), Decimal("0.000"), Decimal("1700.000"), "ACTIVE")


@pytest.mark.django_db
def test_a_released_reservation_cannot_be_sold(seller, cotton):
    availability = factories.availability(seller, cotton)
    reservation = reserve(availability, "500")
    services.availability_release(reservation_id=reservation.pk)

    assert refused(lambda: services.availability_sell(reservation_id=reservation.pk)).code == "invalid_transition"
    assert quantities(availability)[2] == Decimal("0.000")
    assert availability_events(events.AVAILABILITY_SOLD).count() == 0


# --- expiry ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_expired_reservations_are_released_by_the_job_once(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))
    short = reserve(availability, "400", ttl=timedelta(minutes=1))
    long = reserve(availability, "600", ttl=timedelta(hours=2))
    later = timezone.now() + timedelta(minutes=5)

    assert services.reservations_expire_due(now=later) == 1
    assert services.reservations_expire_due(now=later) == 0

    short.refresh_from_db()
    long.refresh_from_db()
    assert (short.status, long.status) == ("EXPIRED", "ACTIVE")
    assert quantities(availability) == (Decimal("400.000"), Decimal("600.000"), Decimal("0.000"), "ACTIVE")
    released = availability_events(events.AVAILABILITY_RELEASED).get()
    assert (released.payload["reason"], released.payload["reservation_status"]) == ("reservation_expired", "EXPIRED")


@pytest.mark.django_db(transaction=True)
def test_the_expiry_job_skips_an_availability_locked_by_a_concurrent_change(seller, cotton):
    availability = factories.availability(seller, cotton)
    reserve(availability, "500", ttl=timedelta(minutes=1))
    later = timezone.now() + timedelta(minutes=5)
    locked, finish = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                Availability.objects.select_for_update().get(pk=availability.pk)
                locked.set()
                finish.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        assert services.reservations_expire_due(now=later) == 0  # skipped at once, not waited for
    finally:
        finish.set()
        holder.join(timeout=10)

    assert services.reservations_expire_due(now=later) == 1
    assert quantities(availability)[:2] == (Decimal("17000.000"), Decimal("0.000"))


# --- concurrency and the database's own guard -------------------------------------------------------


def _outcome(call: Any) -> str:
    try:
        call()
    except DomainError as exc:
        return exc.code
    return "reserved"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("total", "reserved", "left"), [("1000", 10, "0.000"), ("1050", 10, "50.000")])
def test_32_buyers_reserving_at_once_never_oversell(seller, cotton, run_concurrently, total, reserved, left):
    availability = factories.availability(seller, cotton, kg=Decimal(total))

    results = run_concurrently(lambda: _outcome(lambda: reserve(availability, "100")), times=32)

    assert [r.error for r in results if r.error is not None] == []
    assert Counter(r.value for r in results) == {"reserved": reserved, "insufficient_quantity": 32 - reserved}
    availability.refresh_from_db()
    assert (availability.available_kg, availability.reserved_kg, availability.sold_kg) == (
        Decimal(left),
        Decimal(100 * reserved),
        Decimal("0.000"),
    )
    assert availability.status == ("RESERVED" if left == "0.000" else "ACTIVE")
    assert Reservation.objects.filter(availability=availability).count() == reserved
    assert_adds_up(availability)
    assert availability_events(events.AVAILABILITY_RESERVED).count() == reserved


@pytest.mark.django_db(transaction=True)
def test_reserving_releasing_and_selling_at_once_keep_the_invariant(seller, cotton, run_concurrently):
    availability = factories.availability(seller, cotton, kg=Decimal("3000"))
    held = [reserve(availability, "100") for _ in range(10)]
    queue = list(held)
    lock = threading.Lock()

    def work() -> str:
        with lock:
            reservation = queue.pop() if queue else None
            sell = len(queue) % 2 == 1
        if reservation is None:
            return _outcome(lambda: reserve(availability, "150"))
        if sell:
            return _outcome(lambda: services.availability_sell(reservation_id=reservation.pk))
        return _outcome(lambda: services.availability_release(reservation_id=reservation.pk))

    results = run_concurrently(work, times=32)

    assert [r.error for r in results if r.error is not None] == []
    assert_adds_up(availability)
    availability.refresh_from_db()
    assert availability.reserved_kg + availability.sold_kg <= Decimal("3000")


@pytest.mark.django_db
def test_the_database_refuses_an_update_that_breaks_the_invariant(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))

    for breaking in (
        {"available_kg": F("available_kg") - 1},  # no longer adds up
        {"available_kg": F("available_kg") - 1001, "reserved_kg": F("reserved_kg") + 1001},  # negative available
        {"available_kg": F("available_kg") + 1, "total_kg": F("total_kg") + 1, "sold_kg": -1},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Availability.objects.filter(pk=availability.pk).update(**breaking)

    assert quantities(availability)[:3] == (Decimal("1000.000"), Decimal("0.000"), Decimal("0.000"))


@pytest.mark.django_db
def test_the_beat_runs_the_expiry_of_reservations_every_minute(seller, cotton, settings):
    from apps.tradedesk.tasks import expire_reservations

    availability = factories.availability(seller, cotton)
    reservation = reserve(availability, "100")
    Reservation.objects.filter(pk=reservation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert expire_reservations() == {"expired": 1}
    assert (
        settings.PERIODIC_TASKS["tradedesk.expire_reservations"]["task"] == "apps.tradedesk.tasks.expire_reservations"
    )
    assert settings.PERIODIC_TASKS["tradedesk.expire_reservations"]["every_seconds"] == 60


@pytest.mark.django_db
@pytest.mark.parametrize("kg", ["3000", "17000"])
def test_the_reserved_event_carries_the_availability_as_a_fresh_read_shows_it(seller, cotton, kg):
    """Issue 15: the service reads the availability before the lock and takes only the columns the
    UPDATE changed back under it; the event's payload is what a fresh read of the row gives."""
    from apps.tradedesk.services.availabilities import availability_payload

    availability = factories.availability(seller, cotton)

    reservation = reserve(availability, kg)

    event = availability_events(events.AVAILABILITY_RESERVED).get()
    fresh = Availability.objects.select_related(
        "commodity", "variety", "quantity_unit", "price_unit", "delivery_term"
    ).get(pk=availability.pk)
    extra = {"reservation_id", "quantity_kg", "reservation_status", "purpose", "reference", "reservation_expires_at"}
    assert {k: v for k, v in event.payload.items() if k not in extra} == availability_payload(fresh)
    assert event.payload["reservation_id"] == str(reservation.pk)
    assert event.payload["status"] == ("RESERVED" if kg == "17000" else "ACTIVE")

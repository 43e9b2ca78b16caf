"""Owned reservations (a negotiation's: owner and its own expiry, extended and resized as the
negotiation moves), sold quantity given back, and fulfilment reversed (a cancelled trade)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.tradedesk import events
from apps.tradedesk.models import Availability, Reservation
from apps.tradedesk.services import requirements as requirement_services
from apps.tradedesk.services import reservations as services
from apps.tradedesk.tests import factories
from apps.tradedesk.tests.test_reservations import assert_adds_up, quantities, refused, reserve

NEGOTIATION = "trades.negotiation"


def owned(availability: Availability, kg: str, *, hours: int = 48, **options: Any) -> Reservation:
    return reserve(
        availability,
        kg,
        owner_type=NEGOTIATION,
        owner_id=uuid.uuid4(),
        expires_at=timezone.now() + timedelta(hours=hours),
        **options,
    )


# --- owner and expiry ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owned_reservation_keeps_its_owner_and_the_owners_expiry(seller, cotton):
    availability = factories.availability(seller, cotton)
    owner_id = uuid.uuid4()
    expires = timezone.now() + timedelta(hours=48)

    reservation = reserve(availability, "1700", owner_type=NEGOTIATION, owner_id=owner_id, expires_at=expires)

    reservation.refresh_from_db()
    assert (reservation.owner_type, reservation.owner_id, reservation.expires_at) == (NEGOTIATION, owner_id, expires)


@pytest.mark.django_db
def test_an_owner_is_a_type_and_an_id_or_neither(seller, cotton):
    availability = factories.availability(seller, cotton)

    error = refused(lambda: reserve(availability, "1700", owner_type=NEGOTIATION))

    assert (error.code, error.errors[0]["attr"]) == ("owner_incomplete", "owner_id")
    assert quantities(availability)[:2] == (Decimal("17000.000"), Decimal("0.000"))
    assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_the_desk_job_leaves_an_owned_reservation_alone_until_the_owners_expiry_and_grace(seller, cotton, settings):
    settings.TRADEDESK_OWNED_RESERVATION_GRACE_MINUTES = 15
    availability = factories.availability(seller, cotton)
    plain = reserve(availability, "1700")  # the desk's 30 minutes
    negotiation = owned(availability, "3400", hours=48)

    assert services.reservations_expire_due(now=timezone.now() + timedelta(hours=1)) == 1
    negotiation.refresh_from_db()
    plain.refresh_from_db()
    assert (plain.status, negotiation.status) == ("EXPIRED", "ACTIVE")
    # At the owner's expiry the owner releases it; the job waits out the grace.
    assert services.reservations_expire_due(now=negotiation.expires_at + timedelta(minutes=1)) == 0
    assert services.reservations_expire_due(now=negotiation.expires_at + timedelta(minutes=16)) == 1
    negotiation.refresh_from_db()
    assert negotiation.status == "EXPIRED"
    assert_adds_up(availability)


@pytest.mark.django_db
def test_extending_moves_the_expiry_of_an_active_reservation_only(seller, cotton):
    availability = factories.availability(seller, cotton)
    reservation = owned(availability, "1700", hours=1)
    later = timezone.now() + timedelta(hours=48)

    services.reservation_extend(reservation_id=reservation.pk, expires_at=later)

    reservation.refresh_from_db()
    assert reservation.expires_at == later
    services.availability_release(reservation_id=reservation.pk)
    error = refused(lambda: services.reservation_extend(reservation_id=reservation.pk, expires_at=later))
    assert error.code == "invalid_transition"
    past = refused(
        lambda: services.reservation_extend(reservation_id=reservation.pk, expires_at=timezone.now() - timedelta(1))
    )
    assert past.code == "expiry_invalid"


# --- resize -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resizing_up_takes_only_the_difference_and_emits_a_reservation(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("17000"), min_order_kg=Decimal("1700"))
    reservation = owned(availability, "3400")
    before = OutboxEvent.objects.filter(type=events.AVAILABILITY_RESERVED).count()

    services.reservation_resize(reservation_id=reservation.pk, quantity_kg=Decimal("5100"))

    reservation.refresh_from_db()
    assert reservation.quantity_kg == Decimal("5100.000")
    assert quantities(availability) == (Decimal("11900.000"), Decimal("5100.000"), Decimal("0.000"), "ACTIVE")
    event = OutboxEvent.objects.filter(type=events.AVAILABILITY_RESERVED).order_by("-position").first()
    assert OutboxEvent.objects.filter(type=events.AVAILABILITY_RESERVED).count() == before + 1
    assert (event.payload["quantity_kg"], event.payload["resized_from_kg"]) == ("5100.000", "3400.000")
    assert_adds_up(availability)


@pytest.mark.django_db
def test_resizing_down_gives_the_difference_back_and_everything_taken_then_given_back(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("5000"))
    reservation = owned(availability, "2000")

    services.reservation_resize(reservation_id=reservation.pk, quantity_kg=Decimal("5000"))
    assert quantities(availability) == (Decimal("0.000"), Decimal("5000.000"), Decimal("0.000"), "RESERVED")

    services.reservation_resize(reservation_id=reservation.pk, quantity_kg=Decimal("1000"))
    assert quantities(availability) == (Decimal("4000.000"), Decimal("1000.000"), Decimal("0.000"), "ACTIVE")
    released = OutboxEvent.objects.filter(type=events.AVAILABILITY_RELEASED).get()
    assert (released.payload["resized_from_kg"], released.payload["quantity_kg"]) == ("5000.000", "1000.000")
    assert_adds_up(availability)


@pytest.mark.parametrize(
    ("fields", "asked", "code"),
    [
        ({}, "20000", "insufficient_quantity"),
        ({"min_order_kg": Decimal("3000")}, "2500", "below_minimum_order"),
        ({"partial_allowed": False}, "9000", "partial_order_not_allowed"),
        ({}, "0", "quantity_invalid"),
    ],
)
@pytest.mark.django_db
def test_a_resize_that_breaks_a_rule_changes_nothing(seller, cotton, fields, asked, code):
    availability = factories.availability(seller, cotton, kg=Decimal("17000"), **fields)
    held = "17000" if fields.get("partial_allowed") is False else "5000"
    reservation = owned(availability, held)
    before = quantities(availability)
    events_before = OutboxEvent.objects.count()

    error = refused(lambda: services.reservation_resize(reservation_id=reservation.pk, quantity_kg=Decimal(asked)))

    assert error.code == code
    reservation.refresh_from_db()
    assert reservation.quantity_kg == Decimal(held)
    assert quantities(availability) == before
    assert OutboxEvent.objects.count() == events_before


@pytest.mark.django_db
def test_a_closed_reservation_cannot_be_resized(seller, cotton):
    availability = factories.availability(seller, cotton)
    reservation = owned(availability, "1700")
    services.availability_release(reservation_id=reservation.pk)

    error = refused(lambda: services.reservation_resize(reservation_id=reservation.pk, quantity_kg=Decimal("3400")))

    assert error.code == "invalid_transition"
    assert quantities(availability)[:2] == (Decimal("17000.000"), Decimal("0.000"))


@pytest.mark.django_db(transaction=True)
def test_resizes_racing_for_the_last_quantity_never_oversell(seller, cotton, run_concurrently):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))
    holds = [owned(availability, "100") for _ in range(8)]  # 800 held, 200 left
    index = iter(range(8))

    def grow() -> str:
        reservation = holds[next(index)]
        try:
            services.reservation_resize(reservation_id=reservation.pk, quantity_kg=Decimal("200"))
        except DomainError as error:
            return error.code
        return "resized"

    results = run_concurrently(grow, times=8)

    outcomes = sorted(r.value for r in results)
    assert outcomes == ["insufficient_quantity"] * 6 + ["resized"] * 2
    assert quantities(availability) == (Decimal("0.000"), Decimal("1000.000"), Decimal("0.000"), "RESERVED")
    assert_adds_up(availability)


# --- a sale given back ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sold_quantity_given_back_is_available_again(seller, cotton):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))
    services.availability_sell(reservation_id=reserve(availability, "1000").pk)
    assert quantities(availability)[3] == "SOLD"

    services.availability_return_sold(availability_id=availability.pk, quantity_kg=Decimal("400"), reference="TR-1")

    assert quantities(availability) == (Decimal("400.000"), Decimal("0.000"), Decimal("600.000"), "ACTIVE")
    event = OutboxEvent.objects.filter(type=events.AVAILABILITY_RELEASED).get()
    assert (event.payload["reason"], event.payload["quantity_kg"], event.payload["reference"]) == (
        "sale_returned",
        "400.000",
        "TR-1",
    )
    error = refused(
        lambda: services.availability_return_sold(availability_id=availability.pk, quantity_kg=Decimal("700"))
    )
    assert (error.code, error.extra["sold_kg"]) == ("insufficient_quantity", "600.000")
    assert quantities(availability) == (Decimal("400.000"), Decimal("0.000"), Decimal("600.000"), "ACTIVE")


# --- fulfilment reversed ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reversing_a_fulfilment_reopens_the_requirement(buyer, cotton):
    requirement = factories.requirement(buyer, cotton)  # max 200 bales = 34000 kg
    requirement_services.requirement_record_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("34000"), reference="TR-1"
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.closed_at is not None) == ("FULFILLED", True)

    requirement_services.requirement_reverse_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("17000"), reference="TR-1"
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg, requirement.closed_at) == (
        "PARTIALLY_FULFILLED",
        Decimal("17000.000"),
        None,
    )

    requirement_services.requirement_reverse_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("17000"), reference="TR-1"
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("ACTIVE", Decimal("0.000"))
    changed = OutboxEvent.objects.filter(type=events.REQUIREMENT_FULFILMENT_CHANGED).order_by("position")
    assert [e.payload["quantity_kg"] for e in changed] == ["34000.000", "-17000.000", "-17000.000"]
    assert changed.last().payload["reversed"] is True


@pytest.mark.django_db
def test_reversing_more_than_is_fulfilled_changes_nothing(buyer, cotton):
    requirement = factories.requirement(buyer, cotton)
    requirement_services.requirement_record_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("1000"), reference="TR-1"
    )
    events_before = OutboxEvent.objects.count()

    error = refused(
        lambda: requirement_services.requirement_reverse_fulfilment(
            requirement_id=requirement.pk, quantity_kg=Decimal("1000.001"), reference="TR-1"
        )
    )

    assert (error.code, error.extra["fulfilled_kg"]) == ("fulfilment_reversal_exceeds", "1000.000")
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("PARTIALLY_FULFILLED", Decimal("1000.000"))
    assert OutboxEvent.objects.count() == events_before


@pytest.mark.django_db
def test_a_cancelled_requirement_keeps_its_state_when_a_fulfilment_is_reversed(buyer, cotton):
    requirement = factories.requirement(buyer, cotton, status="CANCELLED", fulfilled_kg=Decimal("500"))

    requirement_services.requirement_reverse_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("500"), reference="TR-1"
    )

    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("CANCELLED", Decimal("0.000"))

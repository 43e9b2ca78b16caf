"""Availabilities through their services (SPEC section 7): create and change in DRAFT with every
input rule, submit with its number, approval by the desk (maker-checker, auto-approval by
setting), rejection, cancellation by the seller side, and the expiry job. Every refusal leaves
nothing behind: no row, no change, no event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.commodities.models import TermKind
from apps.commodities.tests.factories import TradeTermFactory, VarietyFactory
from apps.commodities.tests.factories import cotton as build_cotton
from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.locations.errors import LocationInUse
from apps.locations.models import Location
from apps.locations.services.locations import location_deactivate
from apps.organizations.models import Organization
from apps.partners.models import Branch, BranchType, BusinessPartner
from apps.partners.tests import factories as partner_factories
from apps.tradedesk import events
from apps.tradedesk.models import Availability, AvailabilityStatus, Reservation, ReservationStatus
from apps.tradedesk.services import availabilities as services
from apps.tradedesk.services import reservations
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db


def availability_events(event_type: str | None = None) -> Any:
    found = OutboxEvent.objects.filter(type__startswith="tradedesk.availability.")
    return found.filter(type=event_type) if event_type else found


def create(seller: Any, cotton: Any, actor: Any = None, **overrides: Any) -> Availability:
    return services.availability_create(
        actor=actor or seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton, **overrides)
    )


def refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def assert_nothing_written() -> None:
    assert Availability.objects.count() == 0
    assert availability_events().count() == 0


def submitted(seller: Any, cotton: Any, actor: Any = None, **overrides: Any) -> Availability:
    availability = create(seller, cotton, actor, **overrides)
    return services.availability_submit(actor=actor or seller.owner, availability_id=availability.pk)


@pytest.fixture
def second_desk_manager(organization: Any) -> Any:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory

    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=Role.DESK_MANAGER))
    return user


# --- create -----------------------------------------------------------------------------------------


def test_a_seller_creates_a_draft_with_the_quantity_and_price_as_entered_and_per_kg(seller, cotton):
    availability = create(seller, cotton)

    availability.refresh_from_db()
    assert availability.status == AvailabilityStatus.DRAFT
    assert availability.number == ""
    assert (availability.quantity, availability.quantity_unit.code, availability.quantity_unit_factor) == (
        Decimal("100.000"),
        "BALE",
        Decimal("170.00000000"),
    )
    assert (availability.total_kg, availability.available_kg, availability.reserved_kg, availability.sold_kg) == (
        Decimal("17000.000"),
        Decimal("17000.000"),
        Decimal("0.000"),
        Decimal("0.000"),
    )
    assert availability.min_order_kg == Decimal("1700.000")
    assert (availability.price, availability.price_unit.code, availability.price_unit_factor) == (
        Decimal("60000.00"),
        "CANDY",
        Decimal("355.62000000"),
    )
    assert availability.price_per_kg == Decimal("168.7194")
    assert availability.currency == "INR"
    assert availability.quality == {"staple_length": "29", "micronaire": "4.2", "strength": "29.5", "trash": "3"}
    assert (availability.state_code, availability.region) == ("GJ", "WEST")
    assert availability.expires_at == availability.available_until
    assert availability.created_by == seller.owner
    event = availability_events().get()
    assert event.type == events.AVAILABILITY_CREATED
    assert (event.organization_id, event.partner_id) == (seller.organization_id, seller.pk)
    assert event.payload["total_kg"] == "17000.000"
    assert event.payload["price_per_kg"] == "168.7194"
    assert event.payload["commodity_code"] == "COTTON"
    assert event.payload["variety_code"] == "SHANKAR-6"
    assert event.payload["status"] == "DRAFT"


def test_the_event_payload_never_names_the_seller(seller, cotton):
    create(seller, cotton)

    payload = availability_events().get().payload
    flat = repr(payload)
    assert seller.legal_name not in flat
    assert seller.code not in flat
    assert str(seller.pk) not in flat
    assert not {"partner_id", "partner_name", "ship_from_branch_id", "location_id", "created_by_id"} & set(payload)
    assert {"commodity_id", "quality", "state_code", "region", "visibility", "available_kg"} <= set(payload)


def test_quantity_in_quintals_is_kept_as_entered_and_in_kg(seller, cotton):
    availability = create(seller, cotton, quantity=Decimal("25.5"), quantity_unit="QUINTAL", min_order=None)

    assert (availability.quantity, availability.total_kg, availability.min_order_kg) == (
        Decimal("25.5"),
        Decimal("2550.000"),
        Decimal("0"),
    )
    assert availability.quantity_unit_factor == Decimal("100")


def test_desk_staff_may_key_an_availability_for_the_partner(seller, cotton, desk_manager):
    availability = create(seller, cotton, actor=desk_manager)

    assert (availability.partner_id, availability.created_by_id) == (seller.pk, desk_manager.pk)


# Each rule: (overrides built from the context, code, attr). The context has the seller, a
# foreign partner, another commodity's variety, an inactive location and a payment term.
def _past() -> datetime:
    return timezone.now() - timedelta(days=1)


INVALID_INPUTS = [
    ("quantity zero", lambda c: {"quantity": Decimal("0")}, "quantity_invalid", "quantity"),
    ("quantity negative", lambda c: {"quantity": Decimal("-5")}, "quantity_invalid", "quantity"),
    ("quantity below a gram", lambda c: {"quantity": Decimal("0.001"), "quantity_unit": "LB", "min_order": None},
     "quantity_invalid", "quantity"),
    ("quantity too precise", lambda c: {"quantity": Decimal("1.0001")}, "too_many_decimals", "quantity"),
    ("unknown unit", lambda c: {"quantity_unit": "TONNE"}, "unknown_unit", "quantity_unit"),
    ("price zero", lambda c: {"price": Decimal("0")}, "price_invalid", "price"),
    ("price negative", lambda c: {"price": Decimal("-60000")}, "price_invalid", "price"),
    ("unknown price unit", lambda c: {"price_unit": "BUSHEL"}, "unknown_unit", "price_unit"),
    ("min order above quantity", lambda c: {"min_order": Decimal("100.001")}, "min_order_invalid", "min_order"),
    ("min order negative", lambda c: {"min_order": Decimal("-1")}, "min_order_invalid", "min_order"),
    ("variety of another commodity", lambda c: {"variety_id": c["foreign_variety"].pk}, "variety_invalid",
     "variety_id"),
    ("window ends before it starts", lambda c: {"available_from": timezone.now() + timedelta(days=2),
     "available_until": timezone.now() + timedelta(days=1)}, "window_invalid", "available_until"),
    ("window in the past", lambda c: {"available_from": _past() - timedelta(days=1), "available_until": _past()},
     "window_passed", "available_until"),
    ("no ship-from", lambda c: {"location_id": None}, "ship_from_required", "location_id"),
    ("branch and location", lambda c: {"ship_from_branch_id": c["branch"].pk}, "ship_from_ambiguous",
     "ship_from_branch_id"),
    ("inactive location", lambda c: {"location_id": c["inactive_location"].pk}, "location_invalid", "location_id"),
    ("payment term as delivery term", lambda c: {"delivery_term_id": c["payment_term"].pk}, "term_invalid",
     "delivery_term_id"),
    ("unknown visibility", lambda c: {"visibility": "SECRET"}, "visibility_invalid", "visibility"),
    ("restricted without invitees", lambda c: {"visibility": "RESTRICTED"}, "invited_partners_invalid",
     "invited_partner_ids"),
    ("restricted inviting a foreign partner", lambda c: {"visibility": "RESTRICTED",
     "invited_partner_ids": [c["foreign_partner"].pk]}, "invited_partners_invalid", "invited_partner_ids"),
    ("restricted inviting itself", lambda c: {"visibility": "RESTRICTED", "invited_partner_ids": [c["seller"].pk]},
     "invited_partners_invalid", "invited_partner_ids"),
    ("public with invitees", lambda c: {"invited_partner_ids": [c["buyer"].pk]}, "invited_partners_invalid",
     "invited_partner_ids"),
]  # fmt: skip


@pytest.fixture
def context(seller, buyer, foreign_partner, cotton) -> dict[str, Any]:
    other = build_cotton("KAPAS")
    inactive = factories.location("Closed Yard")
    Location.objects.filter(pk=inactive.pk).update(is_active=False)
    branch = Branch.objects.create(
        partner=seller,
        code="GIN-1",
        name="Rajkot ginning factory",
        branch_type=BranchType.FACTORY,
        location=factories.location(),
        address_line1="Plot 4, GIDC",
        city="Rajkot",
        state_code="24",
        pincode="360003",
    )
    return {
        "seller": seller,
        "buyer": buyer,
        "foreign_partner": foreign_partner,
        "foreign_variety": other.varieties.get(code="SHANKAR-6"),
        "inactive_location": inactive,
        "payment_term": TradeTermFactory(kind=TermKind.PAYMENT, code="NET_30", advance_percent=Decimal("0"),
                                         payment_days=30, carry_charge_percent_per_annum=Decimal("18")),
        "branch": branch,
    }  # fmt: skip


@pytest.mark.parametrize(("case", "overrides", "code", "attr"), INVALID_INPUTS, ids=[c[0] for c in INVALID_INPUTS])
def test_invalid_input_is_refused_with_its_code_and_nothing_is_written(
    seller, cotton, context, case, overrides, code, attr
):
    error = refused(lambda: create(seller, cotton, **overrides(context)))

    assert error.status == 400
    assert error.code == code
    assert error.errors[0]["attr"] == attr
    assert_nothing_written()


@pytest.mark.parametrize(
    ("quality", "attr", "code"),
    [
        ({"staple_length": "29.0", "micronaire": "7.5", "strength": "29.5"}, "quality.micronaire", "out_of_range"),
        ({"micronaire": "4.2", "strength": "29.5"}, "quality.staple_length", "required"),
        ({"staple_length": "29", "micronaire": "4.2", "strength": "29.5", "colour": "white"}, "quality.colour",
         "unknown_parameter"),
        ({"staple_length": "long", "micronaire": "4.2", "strength": "29.5"}, "quality.staple_length", "not_a_number"),
    ],
)  # fmt: skip
def test_quality_outside_the_commodity_parameters_is_refused_field_by_field(seller, cotton, quality, attr, code):
    error = refused(lambda: create(seller, cotton, quality=quality))

    assert (error.status, error.code) == (400, "quality_invalid")
    assert {"attr": attr, "code": code} in [{"attr": e["attr"], "code": e["code"]} for e in error.errors]
    assert_nothing_written()


def _set_partner(partner: Any, **fields: Any) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(**fields)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": "SUSPENDED"}, "partner_not_active"),
        ({"kyc_expires_on": datetime(2020, 1, 1, tzinfo=UTC).date()}, "kyc_not_valid"),
        (
            {"trading_capabilities": {"buy": True, "sell": False, "import": False, "export": False}},
            "capability_missing",
        ),
    ],
)
def test_a_partner_that_may_not_sell_now_cannot_post(seller, cotton, desk_manager, change, code):
    _set_partner(seller, **change)

    # A suspended partner's own users are stopped earlier, as for any write of theirs.
    owner_code = "partner_suspended" if change.get("status") == "SUSPENDED" else code
    for actor, expected in ((seller.owner, owner_code), (desk_manager, code)):
        error = refused(lambda actor=actor: create(seller, cotton, actor=actor))
        assert (error.status, error.code) == (403, expected)
    assert_nothing_written()


def test_a_viewer_cannot_post_and_another_partner_cannot_post_for_the_seller(seller, buyer, seller_viewer, cotton):
    assert refused(lambda: create(seller, cotton, actor=seller_viewer)).status == 403
    assert refused(lambda: create(seller, cotton, actor=buyer.owner)).status == 404
    assert_nothing_written()


def test_staff_of_another_organization_cannot_post_for_the_seller(seller, cotton, other_org_desk_manager):
    assert refused(lambda: create(seller, cotton, actor=other_org_desk_manager)).code == "partner_not_found"
    assert_nothing_written()


# --- ship-from ---------------------------------------------------------------------------------------


def test_shipping_from_a_branch_takes_the_branchs_location(seller, cotton, context):
    branch = context["branch"]
    availability = create(seller, cotton, location_id=None, ship_from_branch_id=branch.pk)

    assert (availability.ship_from_branch_id, availability.location_id) == (branch.pk, branch.location_id)
    assert (availability.state_code, availability.region) == ("GJ", "WEST")


@pytest.mark.parametrize(
    ("branch_change", "code"),
    [({"can_send": False}, "branch_cannot_send"), ({"location": None}, "branch_without_location"),
     ({"is_active": False}, "branch_invalid")],
)  # fmt: skip
def test_a_branch_that_cannot_ship_is_refused(seller, cotton, context, branch_change, code):
    branch = context["branch"]
    Branch.objects.filter(pk=branch.pk).update(**branch_change)

    error = refused(lambda: create(seller, cotton, location_id=None, ship_from_branch_id=branch.pk))

    assert (error.code, error.errors[0]["attr"]) == (code, "ship_from_branch_id")
    assert_nothing_written()


def test_another_partners_branch_is_refused(seller, buyer, cotton, context):
    theirs = Branch.objects.create(
        partner=buyer, code="MILL", name="Mill", branch_type=BranchType.FACTORY, location=factories.coimbatore()
    )

    assert refused(lambda: create(seller, cotton, location_id=None, ship_from_branch_id=theirs.pk)).code == (
        "branch_invalid"
    )
    assert_nothing_written()


def test_a_location_with_an_open_availability_cannot_be_deactivated(seller, cotton):
    availability = create(seller, cotton)

    with pytest.raises(LocationInUse) as caught:
        location_deactivate(location_id=availability.location_id, actor=None)
    assert "tradedesk.availability" in caught.value.detail

    services.availability_cancel(actor=seller.owner, availability_id=availability.pk)
    assert location_deactivate(location_id=availability.location_id, actor=None).is_active is False


# --- day-only offers ------------------------------------------------------------------------------------


def _future_day() -> datetime:
    day = timezone.now().date() + timedelta(days=3)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_a_day_only_offer_expires_at_the_end_of_its_indian_day(seller, cotton):
    day = _future_day()
    starts = day + timedelta(hours=20)  # 01:30 the next day in Asia/Kolkata

    availability = create(
        seller, cotton, day_only=True, available_from=starts, available_until=starts + timedelta(days=10)
    )

    # Midnight after that Indian day is 18:30 UTC of the next UTC day.
    assert availability.expires_at == day + timedelta(days=1, hours=18, minutes=30)


def test_a_day_only_offer_follows_its_locations_own_timezone(seller, cotton):
    houston = Location.objects.create(
        name="Houston",
        country="US",
        state_code="TX",
        timezone="America/Chicago",
        latitude=Decimal("29.760400"),
        longitude=Decimal("-95.369800"),
    )
    day = _future_day()
    starts = day + timedelta(hours=3)  # 21:00 the evening before in Chicago (UTC-6 in winter)

    availability = create(
        seller,
        cotton,
        location_id=houston.pk,
        day_only=True,
        available_from=starts,
        available_until=starts + timedelta(days=10),
    )

    expected = datetime.combine(starts.astimezone(houston_zone()).date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=houston_zone())  # fmt: skip
    assert availability.expires_at == expected
    assert availability.expires_at - starts < timedelta(hours=4)
    assert (availability.state_code, availability.region) == ("TX", "UNKNOWN")


def houston_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Chicago")


def test_a_day_only_offer_never_outlives_its_window(seller, cotton):
    day = _future_day()
    starts = day + timedelta(hours=1)

    availability = create(
        seller, cotton, day_only=True, available_from=starts, available_until=starts + timedelta(hours=2)
    )

    assert availability.expires_at == starts + timedelta(hours=2)


def test_a_day_only_offer_whose_day_is_over_is_refused(seller, cotton):
    yesterday = timezone.now() - timedelta(days=1)

    error = refused(
        lambda: create(
            seller, cotton, day_only=True, available_from=yesterday, available_until=timezone.now() + timedelta(days=3)
        )
    )

    assert (error.code, error.errors[0]["attr"]) == ("window_passed", "available_from")
    assert_nothing_written()


# --- update --------------------------------------------------------------------------------------------


def test_a_draft_changes_and_says_what_changed(seller, cotton):
    availability = create(seller, cotton)

    services.availability_update(
        actor=seller.owner, availability_id=availability.pk, changes=services.AvailabilityFields(price=Decimal("61500"))
    )

    availability.refresh_from_db()
    assert (availability.price, availability.price_per_kg) == (Decimal("61500.00"), Decimal("172.9374"))
    event = availability_events(events.AVAILABILITY_UPDATED).get()
    assert event.payload["changed"] == {
        "price": {"from": "60000.00", "to": "61500.00"},
        "price_per_kg": {"from": "168.7194", "to": "172.9374"},
    }
    assert event.payload["ship_from_changed"] is False


def test_changing_the_unit_keeps_the_minimum_order_weight(seller, cotton):
    availability = create(seller, cotton)

    services.availability_update(
        actor=seller.owner,
        availability_id=availability.pk,
        changes=services.AvailabilityFields(quantity=Decimal("170"), quantity_unit="QUINTAL"),
    )

    availability.refresh_from_db()
    assert (availability.total_kg, availability.available_kg, availability.min_order_kg) == (
        Decimal("17000.000"),
        Decimal("17000.000"),
        Decimal("1700.000"),
    )
    assert availability.quantity_unit.code == "QUINTAL"


def test_moving_the_ship_from_to_a_branch_replaces_the_location(seller, cotton, context):
    availability = create(seller, cotton, location_id=factories.coimbatore().pk)

    services.availability_update(
        actor=seller.owner,
        availability_id=availability.pk,
        changes=services.AvailabilityFields(ship_from_branch_id=context["branch"].pk),
    )

    availability.refresh_from_db()
    assert (availability.ship_from_branch_id, availability.location_id) == (
        context["branch"].pk,
        context["branch"].location_id,
    )
    assert (availability.state_code, availability.region) == ("GJ", "WEST")
    event = availability_events(events.AVAILABILITY_UPDATED).get()
    assert event.payload["ship_from_changed"] is True
    assert event.payload["changed"]["state_code"] == {"from": "TN", "to": "GJ"}


def test_an_update_that_changes_nothing_emits_nothing(seller, cotton):
    availability = create(seller, cotton)

    services.availability_update(
        actor=seller.owner, availability_id=availability.pk, changes=services.AvailabilityFields(price=Decimal("60000"))
    )

    assert availability_events(events.AVAILABILITY_UPDATED).count() == 0


def test_an_invalid_change_changes_nothing(seller, cotton):
    availability = create(seller, cotton)
    before = Availability.objects.filter(pk=availability.pk).values().get()

    error = refused(
        lambda: services.availability_update(
            actor=seller.owner,
            availability_id=availability.pk,
            changes=services.AvailabilityFields(quantity=Decimal("5")),
        )
    )

    assert error.code == "min_order_invalid"
    assert Availability.objects.filter(pk=availability.pk).values().get() == before
    assert availability_events(events.AVAILABILITY_UPDATED).count() == 0


def test_only_a_draft_changes(seller, cotton, financial_year):
    availability = submitted(seller, cotton)
    before = Availability.objects.filter(pk=availability.pk).values().get()

    error = refused(
        lambda: services.availability_update(
            actor=seller.owner, availability_id=availability.pk, changes=services.AvailabilityFields(price=Decimal("1"))
        )
    )

    assert (error.status, error.code, error.extra["current_state"]) == (409, "invalid_transition", "PENDING_APPROVAL")
    assert Availability.objects.filter(pk=availability.pk).values().get() == before
    assert availability_events(events.AVAILABILITY_UPDATED).count() == 0


# --- submit, approve, reject ----------------------------------------------------------------------------


def test_submitting_numbers_the_availability_from_the_series(seller, cotton, financial_year):
    first = submitted(seller, cotton)
    second = submitted(seller, cotton)

    assert first.status == AvailabilityStatus.PENDING_APPROVAL
    assert first.number == f"AV/{financial_year.label}/000001"
    assert second.number == f"AV/{financial_year.label}/000002"
    assert first.submitted_at is not None
    event = availability_events(events.AVAILABILITY_SUBMITTED).filter(aggregate_id=str(first.pk)).get()
    assert event.payload["number"] == first.number
    assert availability_events(events.AVAILABILITY_APPROVED).count() == 0


def test_submitting_without_a_financial_year_writes_nothing(seller, cotton):
    availability = create(seller, cotton)

    error = refused(lambda: services.availability_submit(actor=seller.owner, availability_id=availability.pk))

    assert (error.status, error.code) == (409, "financial_year_not_found")
    availability.refresh_from_db()
    assert (availability.status, availability.number) == ("DRAFT", "")
    assert availability_events(events.AVAILABILITY_SUBMITTED).count() == 0


def test_submitting_twice_is_an_invalid_transition(seller, cotton, financial_year):
    availability = submitted(seller, cotton)

    error = refused(lambda: services.availability_submit(actor=seller.owner, availability_id=availability.pk))

    assert (error.code, error.extra["current_state"]) == ("invalid_transition", "PENDING_APPROVAL")
    assert availability_events(events.AVAILABILITY_SUBMITTED).count() == 1


def test_a_suspended_partner_cannot_submit(seller, cotton, financial_year):
    availability = create(seller, cotton)
    _set_partner(seller, status="SUSPENDED")

    assert (
        refused(lambda: services.availability_submit(actor=seller.owner, availability_id=availability.pk)).status == 403
    )
    availability.refresh_from_db()
    assert availability.status == "DRAFT"
    assert availability_events(events.AVAILABILITY_SUBMITTED).count() == 0


def test_the_organization_setting_approves_on_submit(seller, cotton, financial_year, organization):
    Organization.objects.filter(pk=organization.pk).update(settings={"auto_approve_availabilities": True})

    availability = submitted(seller, cotton)

    assert availability.status == AvailabilityStatus.ACTIVE
    assert availability.decided_by is None
    assert [e.type for e in availability_events().order_by("position")] == [
        events.AVAILABILITY_CREATED,
        events.AVAILABILITY_SUBMITTED,
        events.AVAILABILITY_APPROVED,
    ]
    assert availability_events(events.AVAILABILITY_APPROVED).get().payload["auto_approved"] is True


def test_a_desk_manager_approves_and_it_goes_on_the_market(seller, cotton, financial_year, desk_manager):
    availability = submitted(seller, cotton)

    services.availability_approve(actor=desk_manager, availability_id=availability.pk, note="Quality report seen")

    availability.refresh_from_db()
    assert (availability.status, availability.decided_by, availability.decision_note) == (
        "ACTIVE",
        desk_manager,
        "Quality report seen",
    )
    event = availability_events(events.AVAILABILITY_APPROVED).get()
    assert (event.payload["status"], event.payload["auto_approved"], event.actor_id) == (
        "ACTIVE",
        False,
        desk_manager.pk,
    )


def test_the_staff_member_who_keyed_it_cannot_approve_it(
    seller, cotton, financial_year, desk_manager, second_desk_manager
):
    availability = submitted(seller, cotton, actor=desk_manager)

    error = refused(lambda: services.availability_approve(actor=desk_manager, availability_id=availability.pk))

    assert (error.status, error.code) == (409, "maker_checker_violation")
    availability.refresh_from_db()
    assert availability.status == "PENDING_APPROVAL"
    assert availability_events(events.AVAILABILITY_APPROVED).count() == 0
    services.availability_approve(actor=second_desk_manager, availability_id=availability.pk)
    availability.refresh_from_db()
    assert availability.status == "ACTIVE"


@pytest.mark.parametrize(
    ("who", "status"),
    [("kyc_officer", 403), ("other_org_desk_manager", 404), ("owner", 403), ("buyer_owner", 404)],
)
def test_only_the_desk_of_the_organization_approves(request, seller, buyer, cotton, financial_year, who, status):
    actor = {"owner": seller.owner, "buyer_owner": buyer.owner}.get(who) or request.getfixturevalue(who)
    availability = submitted(seller, cotton)

    for decide in (
        lambda: services.availability_approve(actor=actor, availability_id=availability.pk),
        lambda: services.availability_reject(actor=actor, availability_id=availability.pk, reason="no"),
    ):
        assert refused(decide).status == status
    availability.refresh_from_db()
    assert availability.status == "PENDING_APPROVAL"
    assert (
        availability_events().exclude(type__in=[events.AVAILABILITY_CREATED, events.AVAILABILITY_SUBMITTED]).count()
        == 0
    )


def test_approving_a_partner_suspended_since_it_submitted_is_refused(seller, cotton, financial_year, desk_manager):
    availability = submitted(seller, cotton)
    _set_partner(seller, status="SUSPENDED")

    error = refused(lambda: services.availability_approve(actor=desk_manager, availability_id=availability.pk))

    assert (error.status, error.code) == (403, "partner_not_active")
    availability.refresh_from_db()
    assert availability.status == "PENDING_APPROVAL"


def test_approving_after_the_window_passed_is_refused(seller, cotton, financial_year, desk_manager):
    availability = submitted(seller, cotton)
    Availability.objects.filter(pk=availability.pk).update(
        available_from=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(minutes=1),
        available_until=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip

    error = refused(lambda: services.availability_approve(actor=desk_manager, availability_id=availability.pk))

    assert (error.status, error.code) == (409, "availability_expired")
    availability.refresh_from_db()
    assert availability.status == "PENDING_APPROVAL"


def test_approving_a_draft_is_an_invalid_transition(seller, cotton, desk_manager):
    availability = create(seller, cotton)

    error = refused(lambda: services.availability_approve(actor=desk_manager, availability_id=availability.pk))

    assert (error.code, error.extra["current_state"]) == ("invalid_transition", "DRAFT")


def test_rejecting_needs_a_reason_and_records_it(seller, cotton, financial_year, desk_manager):
    availability = submitted(seller, cotton)

    error = refused(
        lambda: services.availability_reject(actor=desk_manager, availability_id=availability.pk, reason=" ")
    )
    assert (error.code, error.errors[0]["attr"]) == ("required", "reason")
    availability.refresh_from_db()
    assert availability.status == "PENDING_APPROVAL"

    services.availability_reject(actor=desk_manager, availability_id=availability.pk, reason="Trash above 5%")

    availability.refresh_from_db()
    assert (availability.status, availability.decision_note, availability.decided_by) == (
        "REJECTED",
        "Trash above 5%",
        desk_manager,
    )
    assert availability_events(events.AVAILABILITY_REJECTED).get().payload["reason"] == "Trash above 5%"


# --- cancel ----------------------------------------------------------------------------------------------


def test_cancelling_releases_the_reservations_and_sold_stays_sold(seller, buyer, cotton):
    availability = factories.availability(seller, cotton)
    held = [
        reservations.availability_reserve(
            availability_id=availability.pk, quantity_kg=Decimal(q), purpose="NEGOTIATION"
        )
        for q in ("2000", "3000", "4000")
    ]
    reservations.availability_sell(reservation_id=held[2].pk)
    OutboxEvent.objects.all().delete()

    services.availability_cancel(actor=seller.owner, availability_id=availability.pk, reason="Crop sold locally")

    availability.refresh_from_db()
    assert availability.status == "CANCELLED"
    assert (availability.available_kg, availability.reserved_kg, availability.sold_kg) == (
        Decimal("13000.000"),
        Decimal("0.000"),
        Decimal("4000.000"),
    )
    assert sorted(Reservation.objects.values_list("status", flat=True)) == ["RELEASED", "RELEASED", "SOLD"]
    assert sorted(e.type for e in availability_events()) == [
        events.AVAILABILITY_CANCELLED,
        events.AVAILABILITY_RELEASED,
        events.AVAILABILITY_RELEASED,
    ]
    cancelled = availability_events(events.AVAILABILITY_CANCELLED).get()
    assert (cancelled.payload["reason"], cancelled.payload["previous_status"], cancelled.payload["released_kg"]) == (
        "Crop sold locally",
        "ACTIVE",
        "5000.000",
    )


def test_a_suspended_partner_may_still_cancel_its_offer(seller, cotton):
    availability = factories.availability(seller, cotton)
    _set_partner(seller, status="SUSPENDED")

    services.availability_cancel(actor=seller.owner, availability_id=availability.pk)

    availability.refresh_from_db()
    assert availability.status == "CANCELLED"


def test_a_blocked_partners_users_cannot_cancel_but_the_desk_can(seller, cotton, desk_manager):
    availability = factories.availability(seller, cotton)
    _set_partner(seller, status="BLOCKED")

    error = refused(lambda: services.availability_cancel(actor=seller.owner, availability_id=availability.pk))
    assert (error.status, error.code) == (403, "partner_blocked")
    availability.refresh_from_db()
    assert availability.status == "ACTIVE"
    assert availability_events().count() == 0

    services.availability_cancel(actor=desk_manager, availability_id=availability.pk)
    availability.refresh_from_db()
    assert availability.status == "CANCELLED"


def test_a_viewer_cannot_cancel(seller, seller_viewer, cotton):
    availability = factories.availability(seller, cotton)

    assert (
        refused(lambda: services.availability_cancel(actor=seller_viewer, availability_id=availability.pk)).status
        == 403
    )
    availability.refresh_from_db()
    assert availability.status == "ACTIVE"


@pytest.mark.parametrize("status", ["SOLD", "EXPIRED", "CANCELLED", "REJECTED"])
def test_a_closed_availability_cannot_be_cancelled(seller, cotton, status):
    availability = factories.availability(seller, cotton, status=status)

    error = refused(lambda: services.availability_cancel(actor=seller.owner, availability_id=availability.pk))

    assert (error.status, error.code, error.extra["current_state"]) == (409, "invalid_transition", status)
    assert availability_events().count() == 0


# --- expiry ----------------------------------------------------------------------------------------------


def test_the_expiry_job_expires_what_is_due_once_and_releases_its_reservations(seller, cotton):
    now = timezone.now()
    due = factories.availability(seller, cotton)
    reserved_all = factories.availability(seller, cotton, kg=Decimal("1000"))
    later = factories.availability(seller, cotton)
    reservations.availability_reserve(availability_id=due.pk, quantity_kg=Decimal("500"), purpose="NEGOTIATION")
    reservations.availability_reserve(availability_id=reserved_all.pk, quantity_kg=Decimal("1000"), purpose="TRADE")
    Availability.objects.filter(pk__in=[due.pk, reserved_all.pk]).update(expires_at=now - timedelta(seconds=1))
    OutboxEvent.objects.all().delete()

    assert services.availabilities_expire_due(now=now) == 2
    assert services.availabilities_expire_due(now=now) == 0

    for availability in (due, reserved_all):
        availability.refresh_from_db()
        assert availability.status == "EXPIRED"
        assert (availability.reserved_kg, availability.available_kg) == (Decimal("0.000"), availability.total_kg)
    later.refresh_from_db()
    assert later.status == "ACTIVE"
    assert set(Reservation.objects.values_list("status", flat=True)) == {ReservationStatus.RELEASED}
    expired = availability_events(events.AVAILABILITY_EXPIRED)
    assert sorted(e.payload["previous_status"] for e in expired) == ["ACTIVE", "RESERVED"]
    assert availability_events(events.AVAILABILITY_RELEASED).count() == 2


def test_a_day_only_offer_expires_at_the_end_of_its_day(seller, cotton):
    day = _future_day()
    starts = day + timedelta(hours=1)
    availability = create(
        seller, cotton, day_only=True, available_from=starts, available_until=starts + timedelta(days=5)
    )
    Availability.objects.filter(pk=availability.pk).update(status="ACTIVE")

    assert services.availabilities_expire_due(now=availability.expires_at - timedelta(seconds=1)) == 0
    assert services.availabilities_expire_due(now=availability.expires_at) == 1
    availability.refresh_from_db()
    assert availability.status == "EXPIRED"


def test_a_draft_past_its_window_is_not_expired_by_the_job(seller, cotton):
    availability = create(seller, cotton)

    assert services.availabilities_expire_due(now=timezone.now() + timedelta(days=60)) == 0
    availability.refresh_from_db()
    assert availability.status == "DRAFT"


def test_a_variety_must_be_active(seller, cotton):
    retired = VarietyFactory(commodity=cotton, code="OLD-1", name="Old", is_active=False)

    assert refused(lambda: create(seller, cotton, variety_id=retired.pk)).code == "variety_invalid"
    assert_nothing_written()


def test_a_second_partner_of_the_organization_may_be_invited(seller, buyer, cotton):
    third = partner_factories.approved_partner(seller.organization)

    availability = create(seller, cotton, visibility="RESTRICTED", invited_partner_ids=[buyer.pk, third.pk, buyer.pk])

    assert set(availability.invited_partners.values_list("pk", flat=True)) == {buyer.pk, third.pk}
    assert availability_events().get().payload["invited_partner_ids"] == sorted([str(buyer.pk), str(third.pk)])


def test_the_beat_runs_the_expiry_of_availabilities_every_minute(seller, cotton, settings):
    from apps.tradedesk.tasks import expire_availabilities

    factories.availability(seller, cotton, expires_at=timezone.now() - timedelta(seconds=1))

    assert expire_availabilities() == {"expired": 1}
    assert settings.PERIODIC_TASKS["tradedesk.expire_availabilities"] == {
        "task": "apps.tradedesk.tasks.expire_availabilities",
        "every_seconds": 60,
        "description": settings.PERIODIC_TASKS["tradedesk.expire_availabilities"]["description"],
    }

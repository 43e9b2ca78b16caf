"""Requirements through their services: create, update, publish, cancel, expire and fulfilment,
every refusal rule leaving nothing behind, numbering and fulfilment under concurrency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from apps.commodities.models import TermKind
from apps.commodities.tests.factories import TradeTermFactory
from apps.commodities.tests.factories import cotton as build_cotton
from apps.core.errors import DomainError, PermissionDenied
from apps.events.models import OutboxEvent
from apps.locations.errors import LocationInUse
from apps.locations.models import Location
from apps.locations.services.locations import location_deactivate
from apps.partners.errors import PartnerNotFound
from apps.partners.models import BusinessPartner
from apps.tradedesk import events
from apps.tradedesk.models import Requirement, RequirementDeliveryLocation, RequirementStatus
from apps.tradedesk.services import requirements as services
from apps.tradedesk.tasks import expire_requirements
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

COTTON_PER_KG_62000 = "174.3434"  # 62000 / 355.62, half up to 4 places
COTTON_PER_KG_60000 = "168.7194"


def _events(*types: str) -> list[OutboxEvent]:
    wanted = types or tuple(v for k, v in vars(events).items() if k.startswith("REQUIREMENT_"))
    return list(OutboxEvent.objects.filter(type__in=wanted).order_by("position"))


def _create(buyer: Any, cotton: Any, actor: Any = None, **overrides: Any) -> Requirement:
    return services.requirement_create(
        actor=actor or buyer.owner, partner_id=buyer.pk, fields=factories.requirement_fields(cotton, **overrides)
    )


def _published(buyer: Any, cotton: Any, **overrides: Any) -> Requirement:
    requirement = _create(buyer, cotton, **overrides)
    return services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)


def _nothing_written() -> None:
    assert Requirement.objects.count() == 0
    assert RequirementDeliveryLocation.objects.count() == 0
    assert _events() == []


def _state(requirement: Requirement) -> tuple[Any, ...]:
    requirement.refresh_from_db()
    rows = tuple(requirement.delivery_locations.order_by("created_at").values_list("location_id", "radius_km"))
    return (
        requirement.status,
        requirement.number,
        requirement.max_price,
        requirement.max_kg,
        requirement.fulfilled_kg,
        requirement.urgency,
        requirement.spec,
        rows,
    )


# --- create ---------------------------------------------------------------------------------------


def test_a_buyer_creates_a_draft_with_quantities_in_kg_and_prices_per_kg(buyer, cotton):
    requirement = _create(buyer, cotton)

    requirement.refresh_from_db()
    assert requirement.status == RequirementStatus.DRAFT
    assert requirement.number == ""
    assert (requirement.organization_id, requirement.partner_id, requirement.created_by_id) == (
        buyer.organization_id,
        buyer.pk,
        buyer.owner.pk,
    )
    assert (requirement.quantity_unit.code, requirement.quantity_unit_factor) == ("BALE", Decimal("170"))
    assert (requirement.min_kg, requirement.max_kg, requirement.preferred_kg) == (
        Decimal("8500.000"),
        Decimal("34000.000"),
        Decimal("17000.000"),
    )
    assert (requirement.price_unit.code, requirement.price_unit_factor) == ("CANDY", Decimal("355.62"))
    assert (str(requirement.max_price_per_kg), str(requirement.preferred_price_per_kg)) == (
        COTTON_PER_KG_62000,
        COTTON_PER_KG_60000,
    )
    assert requirement.spec == {
        "staple_length": {"min": "28.5", "preferred": "29"},
        "micronaire": {"min": "3.8", "max": "4.5"},
    }
    assert (requirement.state_code, requirement.region) == ("TN", "SOUTH")
    rows = list(requirement.delivery_locations.order_by("created_at").values_list("location__name", "radius_km"))
    assert rows == [("Coimbatore", Decimal("50.00")), ("Tiruppur", Decimal("30.00"))]
    [created] = _events()
    assert created.type == events.REQUIREMENT_CREATED
    assert (created.organization_id, created.partner_id, created.actor_id) == (
        buyer.organization_id,
        buyer.pk,
        buyer.owner.pk,
    )


def test_a_trader_and_the_desk_may_create_for_the_buyer(buyer, buyer_trader, desk_manager, cotton):
    by_trader = _create(buyer, cotton, actor=buyer_trader)
    by_desk = _create(buyer, cotton, actor=desk_manager)

    assert (by_trader.created_by_id, by_desk.created_by_id) == (buyer_trader.pk, desk_manager.pk)
    assert Requirement.objects.filter(partner=buyer).count() == 2


def test_a_viewer_may_not_post_and_another_organization_does_not_see_the_buyer(
    buyer, buyer_viewer, other_org_desk_manager, foreign_partner, cotton
):
    with pytest.raises(PermissionDenied):
        _create(buyer, cotton, actor=buyer_viewer)
    with pytest.raises(PartnerNotFound):
        _create(buyer, cotton, actor=other_org_desk_manager)
    with pytest.raises(PartnerNotFound):
        _create(buyer, cotton, actor=foreign_partner.owner)
    _nothing_written()


@pytest.mark.parametrize(
    ("fields", "member_code", "desk_code"),
    [
        ({"status": "SUSPENDED"}, "partner_suspended", "partner_not_active"),
        ({"kyc_expires_on_days": -1}, "kyc_not_valid", "kyc_not_valid"),
        ({"trading_capabilities": {"buy": False, "sell": True}}, "capability_missing", "capability_missing"),
    ],
    ids=["suspended", "kyc_expired", "without_buy_capability"],
)
def test_a_partner_that_may_not_buy_now_posts_nothing(buyer, desk_manager, cotton, fields, member_code, desk_code):
    if "kyc_expires_on_days" in fields:
        fields = {"kyc_expires_on": timezone.localdate() + timedelta(days=fields["kyc_expires_on_days"])}
    BusinessPartner.objects.filter(pk=buyer.pk).update(**fields)

    for actor, code in ((buyer.owner, member_code), (desk_manager, desk_code)):
        with pytest.raises(DomainError) as refused:
            _create(buyer, cotton, actor=actor)
        assert (refused.value.status, refused.value.code) == (403, code)
    _nothing_written()


def _inactive_location() -> Location:
    return factories.location("Closed depot", state_code="GJ", region="WEST", is_active=False)


@pytest.mark.parametrize(
    ("overrides", "code", "attr"),
    [
        ({"spec": {"micronaire": {"min": "1.0"}}}, "spec_invalid", "spec.micronaire.min"),
        ({"spec": {"staple_length": {"min": "31", "max": "29"}}}, "spec_invalid", "spec.staple_length.min"),
        ({"spec": {"fineness": {"min": "1"}}}, "spec_invalid", "spec.fineness"),
        ({"max_price": Decimal("0")}, "price_invalid", "max_price"),
        ({"max_price": Decimal("-100")}, "price_invalid", "max_price"),
        ({"preferred_price": Decimal("0")}, "price_invalid", "preferred_price"),
        ({"preferred_price": Decimal("62000.01")}, "preferred_above_max", "preferred_price"),
        ({"min_quantity": Decimal("0")}, "quantity_invalid", "min_quantity"),
        ({"max_quantity": Decimal("-1")}, "quantity_invalid", "max_quantity"),
        ({"min_quantity": Decimal("300")}, "quantity_range_invalid", "max_quantity"),
        ({"preferred_quantity": Decimal("250")}, "quantity_range_invalid", "preferred_quantity"),
        ({"min_quantity": Decimal("50.0001")}, "too_many_decimals", "min_quantity"),
        ({"quantity_unit": "TOLA"}, "unknown_unit", "quantity_unit"),
        ({"delivery_until_days": 6}, "window_invalid", "delivery_until"),
        ({"valid_from_days": 31}, "window_invalid", "valid_until"),
        ({"valid_from_days": -3, "valid_until_days": -1}, "valid_until_passed", "valid_until"),
        ({"delivery_locations": []}, "delivery_locations_required", "delivery_locations"),
        ({"radius": Decimal("-1")}, "radius_invalid", "delivery_locations.0.radius_km"),
        ({"inactive_location": True}, "location_invalid", "delivery_locations.1.location_id"),
        ({"duplicate_location": True}, "location_duplicate", "delivery_locations.1.location_id"),
        ({"urgency": "YESTERDAY"}, "urgency_invalid", "urgency"),
        ({"visibility": "RESTRICTED"}, "invited_partners_invalid", "invited_partner_ids"),
        ({"foreign_invitee": True}, "invited_partners_invalid", "invited_partner_ids"),
        ({"other_variety": True}, "variety_invalid", "variety_id"),
        ({"payment_term_of_wrong_kind": True}, "term_invalid", "payment_term_id"),
    ],
)
def test_invalid_input_is_refused_with_a_stable_code_and_nothing_written(
    buyer, cotton, foreign_partner, overrides, code, attr
):
    overrides = dict(overrides)
    today, now = timezone.localdate(), timezone.now()
    if "delivery_until_days" in overrides:
        overrides["delivery_until"] = today + timedelta(days=overrides.pop("delivery_until_days"))
    if "valid_from_days" in overrides:
        overrides["valid_from"] = now + timedelta(days=overrides.pop("valid_from_days"))
    if "valid_until_days" in overrides:
        overrides["valid_until"] = now + timedelta(days=overrides.pop("valid_until_days"))
    if "radius" in overrides:
        overrides["delivery_locations"] = [
            {"location_id": factories.coimbatore().pk, "radius_km": overrides.pop("radius")}
        ]
    if overrides.pop("inactive_location", False):
        overrides["delivery_locations"] = [
            {"location_id": factories.coimbatore().pk, "radius_km": Decimal("10")},
            {"location_id": _inactive_location().pk, "radius_km": Decimal("10")},
        ]
    if overrides.pop("duplicate_location", False):
        overrides["delivery_locations"] = [
            {"location_id": factories.coimbatore().pk, "radius_km": Decimal("10")},
            {"location_id": factories.coimbatore().pk, "radius_km": Decimal("20")},
        ]
    if overrides.pop("foreign_invitee", False):
        overrides.update(visibility="RESTRICTED", invited_partner_ids=[foreign_partner.pk])
    if overrides.pop("other_variety", False):
        overrides["variety_id"] = build_cotton("KAPAS").varieties.first().pk
    if overrides.pop("payment_term_of_wrong_kind", False):
        overrides["payment_term_id"] = TradeTermFactory(kind=TermKind.DELIVERY, code="EX_GIN").pk

    with pytest.raises(DomainError) as refused:
        _create(buyer, cotton, **overrides)

    assert (refused.value.status, refused.value.code) == (400, code)
    assert refused.value.errors[0]["attr"] == attr
    _nothing_written()


def test_restricted_visibility_invites_partners_of_the_same_organization(buyer, seller, cotton):
    payment = TradeTermFactory(
        kind=TermKind.PAYMENT,
        code="ADVANCE_10",
        advance_percent=Decimal("10"),
        payment_days=30,
        carry_charge_percent_per_annum=Decimal("18"),
    )
    delivery = TradeTermFactory(kind=TermKind.DELIVERY, code="DELIVERED")
    variety = cotton.varieties.get(code="SHANKAR-6")

    requirement = _create(
        buyer,
        cotton,
        visibility="RESTRICTED",
        invited_partner_ids=[seller.pk],
        payment_term_id=payment.pk,
        delivery_term_id=delivery.pk,
        variety_id=variety.pk,
        urgency="URGENT",
    )

    assert list(requirement.invited_partners.values_list("pk", flat=True)) == [seller.pk]
    assert (requirement.payment_term_id, requirement.delivery_term_id, requirement.variety_id) == (
        payment.pk,
        delivery.pk,
        variety.pk,
    )
    payload = _events(events.REQUIREMENT_CREATED)[0].payload
    assert (payload["visibility"], payload["invited_partner_ids"], payload["variety_code"]) == (
        "RESTRICTED",
        [str(seller.pk)],
        "SHANKAR-6",
    )


# --- publish --------------------------------------------------------------------------------------


def test_publishing_numbers_requirements_from_the_organizations_series(buyer, cotton, financial_year):
    first, second = _create(buyer, cotton), _create(buyer, cotton)

    first = services.requirement_publish(actor=buyer.owner, requirement_id=first.pk)
    second = services.requirement_publish(actor=buyer.owner, requirement_id=second.pk)

    label = financial_year.label
    assert (first.number, second.number) == (f"RQ/{label}/000001", f"RQ/{label}/000002")
    first.refresh_from_db()
    assert first.status == RequirementStatus.ACTIVE
    assert first.published_at is not None
    published = _events(events.REQUIREMENT_PUBLISHED)
    assert [(e.aggregate_id, e.payload["number"], e.payload["status"]) for e in published] == [
        (str(first.pk), f"RQ/{label}/000001", "ACTIVE"),
        (str(second.pk), f"RQ/{label}/000002", "ACTIVE"),
    ]


def test_the_published_payload_carries_what_the_market_needs_and_not_the_buyer(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)
    event = _events(events.REQUIREMENT_PUBLISHED)[0]
    requirement.refresh_from_db()

    assert (event.partner_id, event.organization_id) == (buyer.pk, buyer.organization_id)
    assert event.payload == {
        "requirement_id": str(requirement.pk),
        "number": f"RQ/{financial_year.label}/000001",
        "status": "ACTIVE",
        "commodity_id": str(cotton.pk),
        "commodity_code": "COTTON",
        "variety_id": None,
        "variety_code": None,
        "quantity_unit": "BALE",
        "quantity_unit_factor": "170.00000000",
        "min_quantity": "50.000",
        "max_quantity": "200.000",
        "preferred_quantity": "100.000",
        "min_kg": "8500.000",
        "max_kg": "34000.000",
        "preferred_kg": "17000.000",
        "fulfilled_kg": "0.000",
        "remaining_kg": "34000.000",
        "spec": {"staple_length": {"min": "28.5", "preferred": "29"}, "micronaire": {"min": "3.8", "max": "4.5"}},
        "price_unit": "CANDY",
        "price_unit_factor": "355.62000000",
        "currency": "INR",
        "max_price": "62000.00",
        "preferred_price": "60000.00",
        "max_price_per_kg": COTTON_PER_KG_62000,
        "preferred_price_per_kg": COTTON_PER_KG_60000,
        "delivery_from": requirement.delivery_from.isoformat(),
        "delivery_until": requirement.delivery_until.isoformat(),
        "delivery_locations": [
            {"location_id": str(factories.coimbatore().pk), "radius_km": "50.00"},
            {"location_id": str(factories.tiruppur().pk), "radius_km": "30.00"},
        ],
        "state_code": "TN",
        "region": "SOUTH",
        "payment_term_id": None,
        "delivery_term_id": None,
        "urgency": "NORMAL",
        "visibility": "PUBLIC",
        "invited_partner_ids": [],
        "valid_from": requirement.valid_from.isoformat(),
        "valid_until": requirement.valid_until.isoformat(),
        "published_at": requirement.published_at.isoformat(),
        "closed_at": None,
    }
    assert not {key for key in event.payload if key in {"partner_id", "partner", "created_by", "created_by_id"}}


def test_publishing_twice_is_an_invalid_transition_that_changes_nothing(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)
    before = _state(requirement)

    with pytest.raises(DomainError) as refused:
        services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    assert (refused.value.status, refused.value.code) == (409, "invalid_transition")
    assert refused.value.extra["current_state"] == "ACTIVE"
    assert _state(requirement) == before
    assert len(_events(events.REQUIREMENT_PUBLISHED)) == 1


def test_a_refused_publish_takes_no_number(buyer, cotton, financial_year):
    requirement = _create(buyer, cotton)
    BusinessPartner.objects.filter(pk=buyer.pk).update(status="SUSPENDED")

    with pytest.raises(DomainError) as refused:
        services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)
    assert refused.value.code == "partner_suspended"
    requirement.refresh_from_db()
    assert (requirement.status, requirement.number, requirement.published_at) == ("DRAFT", "", None)

    BusinessPartner.objects.filter(pk=buyer.pk).update(status="ACTIVE")
    published = services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)
    assert published.number == f"RQ/{financial_year.label}/000001"


def test_a_draft_whose_validity_has_passed_is_not_published(buyer, cotton, financial_year):
    requirement = _create(buyer, cotton)
    Requirement.objects.filter(pk=requirement.pk).update(
        valid_from=timezone.now() - timedelta(days=3), valid_until=timezone.now() - timedelta(days=1)
    )

    with pytest.raises(DomainError) as refused:
        services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    assert (refused.value.code, refused.value.errors[0]["attr"]) == ("valid_until_passed", "valid_until")
    requirement.refresh_from_db()
    assert (requirement.status, requirement.number) == ("DRAFT", "")


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishes_get_distinct_gapless_numbers(organization, run_concurrently):
    from apps.partners.tests.factories import approved_partner

    buyer = approved_partner(organization)
    cotton = build_cotton()
    year = factories.financial_year(organization)
    drafts = [_create(buyer, cotton).pk for _ in range(6)]

    def publish_one() -> str:
        requirement_id = drafts.pop()  # atomic under the GIL: one draft per thread
        return services.requirement_publish(actor=buyer.owner, requirement_id=requirement_id).number

    results = run_concurrently(publish_one, times=6)

    assert [r.error for r in results] == [None] * 6
    assert sorted(r.value for r in results) == [f"RQ/{year.label}/{n:06d}" for n in range(1, 7)]
    assert Requirement.objects.filter(status="ACTIVE").count() == 6


# --- update ---------------------------------------------------------------------------------------


def test_a_live_change_emits_exactly_what_changed(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)

    services.requirement_update(
        actor=buyer.owner,
        requirement_id=requirement.pk,
        changes=services.RequirementFields(
            max_price=Decimal("63000"),
            max_quantity=Decimal("250"),
            spec={"staple_length": {"min": "29.0"}, "micronaire": {"min": "3.8", "max": "4.5"}},
            urgency="NORMAL",
        ),
    )

    [updated] = _events(events.REQUIREMENT_UPDATED)
    assert (updated.partner_id, updated.actor_id) == (buyer.pk, buyer.owner.pk)
    assert updated.payload["changed"] == {
        "max_quantity": {"from": "200.000", "to": "250.000"},
        "max_kg": {"from": "34000.000", "to": "42500.000"},
        "spec": {
            "from": {"staple_length": {"min": "28.5", "preferred": "29"}, "micronaire": {"min": "3.8", "max": "4.5"}},
            "to": {"staple_length": {"min": "29"}, "micronaire": {"min": "3.8", "max": "4.5"}},
        },
        "max_price": {"from": "62000.00", "to": "63000.00"},
        "max_price_per_kg": {"from": COTTON_PER_KG_62000, "to": "177.1554"},
    }
    assert (updated.payload["status"], updated.payload["max_kg"], updated.payload["max_price_per_kg"]) == (
        "ACTIVE",
        "42500.000",
        "177.1554",
    )
    requirement.refresh_from_db()
    assert (requirement.max_price, requirement.max_kg, requirement.status) == (
        Decimal("63000.00"),
        Decimal("42500.000"),
        "ACTIVE",
    )


def test_changing_the_delivery_locations_moves_state_and_region(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)
    rajkot = factories.location()

    services.requirement_update(
        actor=buyer.owner,
        requirement_id=requirement.pk,
        changes=services.RequirementFields(
            delivery_locations=[{"location_id": rajkot.pk, "radius_km": Decimal("100")}]
        ),
    )

    changed = _events(events.REQUIREMENT_UPDATED)[0].payload["changed"]
    assert changed == {
        "delivery_locations": {
            "from": [
                {"location_id": str(factories.coimbatore().pk), "radius_km": "50.00"},
                {"location_id": str(factories.tiruppur().pk), "radius_km": "30.00"},
            ],
            "to": [{"location_id": str(rajkot.pk), "radius_km": "100.00"}],
        },
        "state_code": {"from": "TN", "to": "GJ"},
        "region": {"from": "SOUTH", "to": "WEST"},
    }
    requirement.refresh_from_db()
    assert list(requirement.delivery_locations.values_list("location_id", "radius_km")) == [
        (rajkot.pk, Decimal("100.00"))
    ]


def test_a_draft_changes_anything_and_an_unchanged_update_emits_nothing(buyer, cotton):
    requirement = _create(buyer, cotton)

    services.requirement_update(
        actor=buyer.owner,
        requirement_id=requirement.pk,
        changes=services.RequirementFields(urgency="URGENT", quantity_unit="bale"),
    )
    services.requirement_update(
        actor=buyer.owner, requirement_id=requirement.pk, changes=services.RequirementFields(urgency="URGENT")
    )

    [updated] = _events(events.REQUIREMENT_UPDATED)
    assert updated.payload["changed"] == {"urgency": {"from": "NORMAL", "to": "URGENT"}}


def test_a_live_requirement_keeps_its_other_fields(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)
    before = _state(requirement)

    with pytest.raises(DomainError) as refused:
        services.requirement_update(
            actor=buyer.owner,
            requirement_id=requirement.pk,
            changes=services.RequirementFields(urgency="URGENT", max_price=Decimal("64000")),
        )

    assert (refused.value.status, refused.value.code) == (409, "field_not_editable")
    assert [e["attr"] for e in refused.value.errors] == ["urgency"]
    assert _state(requirement) == before
    assert _events(events.REQUIREMENT_UPDATED) == []


@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"preferred_price": Decimal("62500")}, "preferred_above_max", "preferred_price"),
        ({"max_price": Decimal("59999")}, "preferred_above_max", "preferred_price"),
        ({"max_price": Decimal("0")}, "price_invalid", "max_price"),
        ({"min_quantity": Decimal("0")}, "quantity_invalid", "min_quantity"),
        ({"spec": {"strength": {"max": "40"}}}, "spec_invalid", "spec.strength.max"),
        ({"delivery_until_days": -1}, "window_invalid", "delivery_until"),
    ],
)
def test_a_refused_update_changes_nothing(buyer, cotton, financial_year, changes, code, attr):
    requirement = _published(buyer, cotton)
    changes = dict(changes)
    if "delivery_until_days" in changes:
        changes["delivery_until"] = requirement.delivery_from + timedelta(days=changes.pop("delivery_until_days"))
    before = _state(requirement)

    with pytest.raises(DomainError) as refused:
        services.requirement_update(
            actor=buyer.owner, requirement_id=requirement.pk, changes=services.RequirementFields(**changes)
        )

    assert (refused.value.status, refused.value.code, refused.value.errors[0]["attr"]) == (400, code, attr)
    assert _state(requirement) == before
    assert _events(events.REQUIREMENT_UPDATED) == []


def test_the_maximum_stays_above_what_is_fulfilled(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)
    services.requirement_record_fulfilment(requirement_id=requirement.pk, quantity_kg=Decimal("17000"), reference="T1")
    before = _state(requirement)

    with pytest.raises(DomainError) as refused:
        services.requirement_update(
            actor=buyer.owner,
            requirement_id=requirement.pk,
            changes=services.RequirementFields(min_quantity=Decimal("50"), max_quantity=Decimal("100")),
        )

    assert (refused.value.code, refused.value.errors[0]["attr"]) == ("max_not_above_fulfilled", "max_quantity")
    assert _state(requirement) == before


def test_a_closed_requirement_cannot_change(buyer, cotton):
    requirement = _create(buyer, cotton)
    services.requirement_cancel(actor=buyer.owner, requirement_id=requirement.pk)
    before = _state(requirement)

    with pytest.raises(DomainError) as refused:
        services.requirement_update(
            actor=buyer.owner, requirement_id=requirement.pk, changes=services.RequirementFields(urgency="URGENT")
        )

    assert (refused.value.status, refused.value.code, refused.value.extra["current_state"]) == (
        409,
        "invalid_transition",
        "CANCELLED",
    )
    assert _state(requirement) == before


def test_an_update_by_a_partner_that_may_no_longer_buy_is_refused(buyer, cotton, financial_year):
    requirement = _published(buyer, cotton)
    BusinessPartner.objects.filter(pk=buyer.pk).update(trading_capabilities={"buy": False, "sell": True})
    before = _state(requirement)

    with pytest.raises(DomainError) as refused:
        services.requirement_update(
            actor=buyer.owner,
            requirement_id=requirement.pk,
            changes=services.RequirementFields(max_price=Decimal("61000")),
        )

    assert refused.value.code == "capability_missing"
    assert _state(requirement) == before


# --- cancel ---------------------------------------------------------------------------------------


def test_the_buyer_cancels_a_live_requirement_and_a_draft(buyer, cotton, financial_year):
    live, draft = _published(buyer, cotton), _create(buyer, cotton)

    services.requirement_cancel(actor=buyer.owner, requirement_id=live.pk, reason="Bought elsewhere")
    services.requirement_cancel(actor=buyer.owner, requirement_id=draft.pk)

    live.refresh_from_db()
    draft.refresh_from_db()
    assert (live.status, draft.status) == ("CANCELLED", "CANCELLED")
    assert live.closed_at is not None
    assert [
        (e.aggregate_id, e.payload["previous_status"], e.payload["reason"])
        for e in _events(events.REQUIREMENT_CANCELLED)
    ] == [
        (str(live.pk), "ACTIVE", "Bought elsewhere"),
        (str(draft.pk), "DRAFT", ""),
    ]


def test_cancelling_is_refused_in_the_wrong_state_or_without_the_right(buyer, buyer_viewer, kyc_officer, cotton):
    requirement = _create(buyer, cotton)
    with pytest.raises(PermissionDenied):
        services.requirement_cancel(actor=buyer_viewer, requirement_id=requirement.pk)
    with pytest.raises(PermissionDenied):
        services.requirement_cancel(actor=kyc_officer, requirement_id=requirement.pk)
    services.requirement_cancel(actor=buyer.owner, requirement_id=requirement.pk)

    with pytest.raises(DomainError) as refused:
        services.requirement_cancel(actor=buyer.owner, requirement_id=requirement.pk)

    assert (refused.value.code, refused.value.extra["current_state"]) == ("invalid_transition", "CANCELLED")
    assert len(_events(events.REQUIREMENT_CANCELLED)) == 1


# --- expiry ---------------------------------------------------------------------------------------


def test_expiry_closes_live_requirements_past_their_validity_once(buyer, cotton):
    now = timezone.now()
    past = {"valid_from": now - timedelta(days=10), "valid_until": now - timedelta(minutes=1)}
    active = factories.requirement(buyer, cotton, **past)
    partial = factories.requirement(buyer, cotton, status="PARTIALLY_FULFILLED", fulfilled_kg=Decimal("8500"), **past)
    draft = factories.requirement(buyer, cotton, status="DRAFT", **past)
    current = factories.requirement(buyer, cotton)

    assert services.requirements_expire_due(now=now) == 2
    assert services.requirements_expire_due(now=now) == 0
    assert expire_requirements() == {"expired": 0}

    statuses = dict(Requirement.objects.values_list("pk", "status"))
    assert statuses == {active.pk: "EXPIRED", partial.pk: "EXPIRED", draft.pk: "DRAFT", current.pk: "ACTIVE"}
    expired = _events(events.REQUIREMENT_EXPIRED)
    assert sorted((e.aggregate_id, e.payload["previous_status"], e.actor_id) for e in expired) == sorted(
        [(str(active.pk), "ACTIVE", None), (str(partial.pk), "PARTIALLY_FULFILLED", None)]
    )


def test_the_expiry_job_is_a_periodic_task():
    entry = settings.PERIODIC_TASKS["tradedesk.expire_requirements"]
    assert entry["task"] == expire_requirements.name == "apps.tradedesk.tasks.expire_requirements"


# --- fulfilment -----------------------------------------------------------------------------------


def test_fulfilment_moves_partially_fulfilled_then_fulfilled(buyer, cotton):
    requirement = factories.requirement(buyer, cotton)  # 8,500 - 34,000 kg, ACTIVE

    services.requirement_record_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("10000"), reference="TR/1"
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg, requirement.closed_at) == (
        "PARTIALLY_FULFILLED",
        Decimal("10000.000"),
        None,
    )

    services.requirement_record_fulfilment(
        requirement_id=requirement.pk, quantity_kg=Decimal("24000"), reference="TR/2"
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("FULFILLED", Decimal("34000.000"))
    assert requirement.closed_at is not None

    changes = _events(events.REQUIREMENT_FULFILMENT_CHANGED)
    assert [
        (
            e.payload["quantity_kg"],
            e.payload["fulfilled_kg"],
            e.payload["remaining_kg"],
            e.payload["status"],
            e.payload["reference"],
        )
        for e in changes
    ] == [
        ("10000.000", "10000.000", "24000.000", "PARTIALLY_FULFILLED", "TR/1"),
        ("24000.000", "34000.000", "0.000", "FULFILLED", "TR/2"),
    ]
    [fulfilled] = _events(events.REQUIREMENT_FULFILLED)
    assert (fulfilled.aggregate_id, fulfilled.partner_id, fulfilled.payload["reference"]) == (
        str(requirement.pk),
        buyer.pk,
        "TR/2",
    )


def test_fulfilment_beyond_the_maximum_is_refused_and_changes_nothing(buyer, cotton):
    requirement = factories.requirement(buyer, cotton, status="PARTIALLY_FULFILLED", fulfilled_kg=Decimal("30000"))

    with pytest.raises(DomainError) as refused:
        services.requirement_record_fulfilment(
            requirement_id=requirement.pk, quantity_kg=Decimal("4000.001"), reference="TR/3"
        )

    assert (refused.value.status, refused.value.code, refused.value.extra["remaining_kg"]) == (
        409,
        "fulfilment_exceeds_max",
        "4000.000",
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("PARTIALLY_FULFILLED", Decimal("30000.000"))
    assert _events() == []


@pytest.mark.parametrize("status", ["DRAFT", "FULFILLED", "EXPIRED", "CANCELLED"])
def test_fulfilment_needs_a_live_requirement(buyer, cotton, status):
    requirement = factories.requirement(buyer, cotton, status=status)

    with pytest.raises(DomainError) as refused:
        services.requirement_record_fulfilment(requirement_id=requirement.pk, quantity_kg=Decimal("1"), reference="T")

    assert (refused.value.code, refused.value.extra["current_state"]) == ("invalid_transition", status)
    requirement.refresh_from_db()
    assert requirement.fulfilled_kg == Decimal("0")
    assert _events() == []


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-5")])
def test_fulfilment_of_nothing_is_refused(buyer, cotton, quantity):
    requirement = factories.requirement(buyer, cotton)

    with pytest.raises(DomainError) as refused:
        services.requirement_record_fulfilment(requirement_id=requirement.pk, quantity_kg=quantity, reference="T")

    assert refused.value.code == "quantity_invalid"
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("ACTIVE", Decimal("0"))


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_fulfilments_never_exceed_the_maximum(organization, run_concurrently):
    from apps.partners.tests.factories import approved_partner

    buyer = approved_partner(organization)
    requirement = factories.requirement(buyer, build_cotton())  # max 34,000 kg

    def fulfil() -> str:
        try:
            services.requirement_record_fulfilment(
                requirement_id=requirement.pk, quantity_kg=Decimal("20000"), reference="TR"
            )
        except DomainError as exc:
            return exc.code
        return "recorded"

    results = run_concurrently(fulfil, times=2)

    assert [r.error for r in results] == [None, None]
    assert sorted(r.value for r in results) == ["fulfilment_exceeds_max", "recorded"]
    requirement.refresh_from_db()
    assert (requirement.status, requirement.fulfilled_kg) == ("PARTIALLY_FULFILLED", Decimal("20000.000"))
    assert len(_events(events.REQUIREMENT_FULFILMENT_CHANGED)) == 1


# --- locations ------------------------------------------------------------------------------------


def test_an_open_requirement_keeps_its_delivery_locations_active(buyer, cotton):
    requirement = _create(buyer, cotton)
    tiruppur = factories.tiruppur()

    with pytest.raises(LocationInUse):
        location_deactivate(location_id=tiruppur.pk, actor=None)

    services.requirement_cancel(actor=buyer.owner, requirement_id=requirement.pk)
    location_deactivate(location_id=tiruppur.pk, actor=None)
    tiruppur.refresh_from_db()
    assert tiruppur.is_active is False

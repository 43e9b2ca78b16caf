"""Trade terms under /api/v1/terms/<kind>/ and commission structures per commodity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.commodities.models import CommissionStructure, TradeTerm
from apps.commodities.tests.factories import TradeTermFactory
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

PAYMENT = {
    "code": "ADV10_BAL7",
    "name": "10% advance, balance in 7 days",
    "advance_percent": "10",
    "payment_days": 7,
    "carry_charge_percent_per_annum": "18",
}


def test_terms_are_listed_by_kind_for_any_signed_in_user(authenticate, partner_user):
    TradeTermFactory(kind="DELIVERY", code="EX_GIN", name="Ex gin")
    TradeTermFactory(kind="DELIVERY", code="DELIVERED", name="Delivered", is_active=False)
    TradeTermFactory(kind="TRADE_TYPE", code="SPOT", name="Spot")
    client = authenticate(partner_user)

    delivery = client.get("/api/v1/terms/delivery/").json()["results"]
    active = client.get("/api/v1/terms/delivery/", {"is_active": "true"}).json()["results"]
    trade_types = client.get("/api/v1/terms/trade-type/").json()["results"]

    assert [t["code"] for t in delivery] == ["DELIVERED", "EX_GIN"]
    assert [t["code"] for t in active] == ["EX_GIN"]
    assert [(t["kind"], t["code"]) for t in trade_types] == [("TRADE_TYPE", "SPOT")]


def test_an_unknown_kind_is_not_found(authenticate, staff):
    assert authenticate(staff).get("/api/v1/terms/incoterms/").status_code == 404


def test_a_payment_term_carries_its_typed_fields(authenticate, platform_admin):
    response = authenticate(platform_admin).post("/api/v1/terms/payment/", PAYMENT, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in (*PAYMENT, "kind", "shortage_allowance_kg_per_100_bales")} == {
        **PAYMENT,
        "kind": "PAYMENT",
        "shortage_allowance_kg_per_100_bales": None,
    }
    [event] = OutboxEvent.objects.filter(type="commodities.terms.created")
    assert (event.payload, event.organization_id) == (
        {"kind": "PAYMENT", "code": "ADV10_BAL7", "name": PAYMENT["name"], "is_active": True},
        None,
    )


def test_a_weightment_term_carries_its_shortage_allowance(authenticate, platform_admin):
    response = authenticate(platform_admin).post(
        "/api/v1/terms/weightment/",
        {"code": "SELLER_WEIGHBRIDGE", "name": "Seller's weighbridge", "shortage_allowance_kg_per_100_bales": "50"},
        format="json",
    )

    assert response.json()["shortage_allowance_kg_per_100_bales"] == "50"


@pytest.mark.parametrize(
    ("kind", "payload", "attr"),
    [
        ("payment", {"code": "NET_30", "name": "Net 30", "payment_days": 30}, "advance_percent"),
        ("weightment", {"code": "W", "name": "W"}, "shortage_allowance_kg_per_100_bales"),
        ("delivery", {"code": "EX_GIN", "name": "Ex gin", "payment_days": 3}, "payment_days"),
        ("payment", {**PAYMENT, "advance_percent": "101"}, "advance_percent"),
        ("delivery", {"code": "ex-gin", "name": "Ex gin"}, "code"),
    ],
)
def test_typed_fields_belong_to_their_kind(authenticate, platform_admin, kind, payload, attr):
    response = authenticate(platform_admin).post(f"/api/v1/terms/{kind}/", payload, format="json")

    assert response.status_code == 400
    assert attr in [e["attr"] for e in response.json()["errors"]]
    assert not TradeTerm.objects.exists()


def test_a_code_is_unique_within_its_kind_only(authenticate, platform_admin):
    client = authenticate(platform_admin)
    client.post("/api/v1/terms/passing/", {"code": "STANDARD", "name": "Standard"}, format="json")

    again = client.post("/api/v1/terms/passing/", {"code": "STANDARD", "name": "Again"}, format="json")
    other_kind = client.post("/api/v1/terms/bargain-type/", {"code": "STANDARD", "name": "Standard"}, format="json")

    assert (again.status_code, again.json()["code"], again.json()["errors"][0]["attr"]) == (
        409,
        "master_data_duplicate",
        "code",
    )
    assert other_kind.status_code == 201


def test_update_and_deactivate_emit_terms_updated(authenticate, platform_admin):
    term = TradeTermFactory(kind="DELIVERY", code="EX_GIN", name="Ex gin")
    client = authenticate(platform_admin)

    renamed = client.patch(f"/api/v1/terms/delivery/{term.id}/", {"name": "Ex ginning factory"}, format="json")
    deactivated = client.post(f"/api/v1/terms/delivery/{term.id}/deactivate")

    assert renamed.json()["name"] == "Ex ginning factory"
    assert deactivated.json()["is_active"] is False
    assert [
        e.payload["changed"] for e in OutboxEvent.objects.filter(type="commodities.terms.updated").order_by("position")
    ] == [
        {"name": ["Ex gin", "Ex ginning factory"]},
        {"is_active": [True, False]},
    ]


def test_a_term_is_found_under_its_own_kind_only(authenticate, platform_admin):
    term = TradeTermFactory(kind="DELIVERY", code="EX_GIN")
    client = authenticate(platform_admin)

    assert client.get(f"/api/v1/terms/payment/{term.id}/").status_code == 404
    assert client.patch(f"/api/v1/terms/payment/{term.id}/", {"name": "X"}, format="json").status_code == 404
    assert client.get(f"/api/v1/terms/delivery/{term.id}/").json()["code"] == "EX_GIN"


# --- commissions ------------------------------------------------------------------------------


@pytest.fixture
def spot(db):
    return TradeTermFactory(kind="TRADE_TYPE", code="SPOT", name="Spot")


def commissions(commodity, suffix=""):
    return f"/api/v1/commodities/{commodity.id}/commissions/{suffix}"


def test_a_fixed_commission_per_bale_for_both_sides(authenticate, platform_admin, cotton, spot):
    response = authenticate(platform_admin).post(
        commissions(cotton),
        {"trade_type": "SPOT", "basis": "FIXED", "rate": "25", "unit": "BALE", "applies_to": "BOTH"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("trade_type", "basis", "rate", "unit", "applies_to", "is_active")} == {
        "trade_type": "SPOT",
        "basis": "FIXED",
        "rate": "25",
        "unit": "BALE",
        "applies_to": "BOTH",
        "is_active": True,
    }
    [event] = OutboxEvent.objects.filter(type="commodities.commission.created")
    assert event.payload["unit"] == "BALE"


def test_a_percentage_commission_has_no_unit(authenticate, platform_admin, cotton, spot):
    client = authenticate(platform_admin)

    good = client.post(
        commissions(cotton),
        {"trade_type": "SPOT", "basis": "PERCENTAGE", "rate": "0.5", "applies_to": "BUYER"},
        format="json",
    )
    with_unit = client.post(
        commissions(cotton),
        {"trade_type": "SPOT", "basis": "PERCENTAGE", "rate": "0.5", "unit": "BALE", "applies_to": "SELLER"},
        format="json",
    )
    too_high = client.post(
        commissions(cotton),
        {"trade_type": "SPOT", "basis": "PERCENTAGE", "rate": "101", "applies_to": "SELLER"},
        format="json",
    )

    assert (good.status_code, good.json()["unit"]) == (201, None)
    assert (with_unit.status_code, with_unit.json()["errors"][0]["attr"]) == (400, "unit")
    assert (too_high.status_code, too_high.json()["errors"][0]["attr"]) == (400, "rate")


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        (
            {"trade_type": "BARTER", "basis": "FIXED", "rate": "1", "unit": "BALE", "applies_to": "BUYER"},
            "trade_type",
            "unknown",
        ),
        ({"trade_type": "SPOT", "basis": "FIXED", "rate": "1", "applies_to": "BUYER"}, "unit", "invalid"),
        (
            {"trade_type": "SPOT", "basis": "FIXED", "rate": "1", "unit": "TOLA", "applies_to": "BUYER"},
            "unit",
            "unknown_unit",
        ),
        (
            {"trade_type": "SPOT", "basis": "FIXED", "rate": "-1", "unit": "BALE", "applies_to": "BUYER"},
            "rate",
            "min_value",
        ),
    ],
)
def test_invalid_commissions_are_refused(authenticate, platform_admin, cotton, spot, payload, attr, code):
    response = authenticate(platform_admin).post(commissions(cotton), payload, format="json")

    assert response.status_code == 400
    assert (attr, code) in [(e["attr"], e["code"]) for e in response.json()["errors"]]
    assert not CommissionStructure.objects.exists()


def test_active_structures_may_not_charge_the_same_party_twice(authenticate, platform_admin, cotton, spot):
    client = authenticate(platform_admin)
    both = {"trade_type": "SPOT", "basis": "PERCENTAGE", "rate": "0.5", "applies_to": "BOTH"}
    first = client.post(commissions(cotton), both, format="json")

    buyer_too = client.post(commissions(cotton), {**both, "applies_to": "BUYER"}, format="json")
    client.patch(commissions(cotton, f"{first.json()['id']}/"), {"is_active": False}, format="json")
    after_deactivation = client.post(commissions(cotton), {**both, "applies_to": "BUYER"}, format="json")

    assert (buyer_too.status_code, buyer_too.json()["code"]) == (409, "commission_overlap")
    assert after_deactivation.status_code == 201
    assert [e.type for e in OutboxEvent.objects.order_by("position")] == [
        "commodities.commission.created",
        "commodities.commission.updated",
        "commodities.commission.created",
    ]


def test_commissions_are_listed_and_filtered_by_trade_type(authenticate, staff, cotton, spot):
    from apps.commodities.services.commissions import commission_create

    forward = TradeTermFactory(kind="TRADE_TYPE", code="FORWARD")
    for trade_type in (spot, forward):
        commission_create(
            actor=None,
            commodity_id=cotton.id,
            trade_type=trade_type,
            basis="PERCENTAGE",
            rate=Decimal("0.25"),
            applies_to="BOTH",
        )
    client = authenticate(staff)

    everything = client.get(commissions(cotton)).json()["results"]
    spot_only = client.get(commissions(cotton), {"trade_type": "SPOT"}).json()["results"]
    bad = client.get(commissions(cotton), {"trade_type": "spot!"})

    assert sorted(c["trade_type"] for c in everything) == ["FORWARD", "SPOT"]
    assert [c["trade_type"] for c in spot_only] == ["SPOT"]
    assert bad.status_code == 400

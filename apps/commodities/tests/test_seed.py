"""The MASTER seeder: units, commodities with parameters and varieties, terms, a commission and
the exchange-style schedule for COTTON; idempotent, and it never undoes an admin's edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps

from apps.commodities.models import CommissionStructure, Commodity, QualitySchedule, TradeTerm, Unit
from apps.commodities.schedules import price_adjustment
from apps.commodities.seed import seed_commodities
from apps.commodities.selectors import active_schedule, schedule_get
from apps.commodities.services.commodities import commodity_update
from apps.commodities.tests.factories import EXCHANGE_RULES, UNIT_FACTORS, exchange_schedule
from apps.core.seeding import SeedReport, seeders
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

MODELS = [
    "Unit",
    "Commodity",
    "Variety",
    "QualityParameter",
    "QualitySchedule",
    "ScheduleRule",
    "TradeTerm",
    "CommissionStructure",
]


def rows() -> dict[str, list]:
    return {name: sorted(apps.get_model("commodities", name).objects.values_list("id", flat=True)) for name in MODELS}


def test_it_is_registered_as_a_master_seeder():
    assert ("commodities", seed_commodities) in seeders(masters_only=True)


def test_seeding_twice_gives_the_same_rows_and_no_new_events():
    seed_commodities(SeedReport())
    first, events = rows(), OutboxEvent.objects.count()

    seed_commodities(SeedReport())

    assert rows() == first
    assert OutboxEvent.objects.count() == events
    assert {name: len(ids) for name, ids in first.items()} == {
        "Unit": 7,
        "Commodity": 4,
        "Variety": 12,
        "QualityParameter": 20,
        "QualitySchedule": 1,
        "ScheduleRule": 15,
        "TradeTerm": 14,
        "CommissionStructure": 2,
    }


def test_cotton_is_seeded_as_the_spec_says():
    seed_commodities(SeedReport())

    cotton = Commodity.objects.select_related("base_unit", "trade_unit", "rate_unit").get(code="COTTON")
    assert (cotton.hsn_code, cotton.gst_rate, cotton.category) == ("5201", Decimal("5.00"), "FIBRE")
    assert (cotton.base_unit.code, cotton.trade_unit.code, cotton.rate_unit.code) == ("KG", "BALE", "CANDY")
    assert sorted(cotton.varieties.values_list("name", flat=True)) == sorted(
        ["Shankar-6", "DCH-32", "MCU-5", "J-34", "Bunny", "Suvin", "LRA-5166"]
    )
    parameters = list(cotton.parameters.order_by("order").values_list("code", "min_value", "max_value", "is_mandatory"))
    assert parameters == [
        ("staple_length", Decimal("22"), Decimal("34"), True),
        ("micronaire", Decimal("2.5"), Decimal("6"), True),
        ("strength", Decimal("22"), Decimal("35"), True),
        ("trash", Decimal("0"), Decimal("8"), False),
        ("moisture", Decimal("5"), Decimal("12"), False),
        ("uniformity", Decimal("75"), Decimal("88"), False),
        ("rd", Decimal("65"), Decimal("85"), False),
        ("plus_b", Decimal("6"), Decimal("14"), False),
        ("color_grade", None, None, False),
    ]
    assert cotton.parameters.get(code="color_grade").allowed_values == [
        "11-1",
        "21-1",
        "21-2",
        "31-1",
        "31-2",
        "31-3",
        "41-1",
        "41-2",
        "41-3",
        "41-4",
        "51-3",
    ]
    assert set(Commodity.objects.values_list("code", flat=True)) == {"COTTON", "KAPAS", "COTTONSEED", "YARN"}


def test_units_terms_and_commissions_are_seeded():
    seed_commodities(SeedReport())

    assert {u.code: u.factor_to_kg for u in Unit.objects.all()} == UNIT_FACTORS
    assert set(TradeTerm.objects.filter(kind="TRADE_TYPE").values_list("code", flat=True)) == {"SPOT", "FORWARD"}
    assert set(TradeTerm.objects.filter(kind="DELIVERY").values_list("code", flat=True)) == {
        "EX_GIN",
        "EX_WAREHOUSE",
        "DELIVERED",
    }
    assert set(TradeTerm.objects.values_list("kind", flat=True)) == {
        "TRADE_TYPE",
        "BARGAIN_TYPE",
        "PASSING",
        "WEIGHTMENT",
        "DELIVERY",
        "PAYMENT",
    }
    spot = CommissionStructure.objects.select_related("unit").get(commodity__code="COTTON", trade_type__code="SPOT")
    assert (spot.basis, spot.rate, spot.unit.code, spot.applies_to) == ("FIXED", Decimal("25"), "BALE", "BOTH")


LOTS = [
    {"staple_length": "28.2", "micronaire": "4.85"},
    {"staple_length": "26.9"},
    {"micronaire": "5.0"},
    {"trash": "4.5"},
    {"trash": "3.0"},
    {"moisture": "9.0"},
    {"staple_length": "29.0", "micronaire": "4.2", "trash": "3.5", "moisture": "8.5"},
    {"staple_length": "30.5", "micronaire": "3.55", "trash": "2.2", "moisture": "9.3"},
]


def test_the_seeded_schedule_is_the_exchange_fixture_active_version_1():
    seed_commodities(SeedReport())
    cotton = Commodity.objects.get(code="COTTON")
    seeded = active_schedule(cotton.id)
    fixture = schedule_get(
        commodity_id=cotton.id, schedule_id=exchange_schedule(cotton, activate=False, rules=EXCHANGE_RULES).id
    )

    assert (seeded.version, seeded.is_active) == (1, True)
    for lot in LOTS:
        ours, theirs = price_adjustment(seeded, lot, Decimal("60000")), price_adjustment(fixture, lot, Decimal("60000"))
        assert (ours.adjusted_price, ours.rejected) == (theirs.adjusted_price, theirs.rejected), lot
    assert price_adjustment(seeded, LOTS[0], Decimal("60000")).adjusted_price == Decimal("58020.00")


def test_seeding_again_keeps_an_admins_edit():
    seed_commodities(SeedReport())
    cotton = Commodity.objects.get(code="COTTON")
    commodity_update(actor=None, commodity_id=cotton.id, gst_rate=Decimal("12"))

    seed_commodities(SeedReport())

    cotton.refresh_from_db()
    assert cotton.gst_rate == Decimal("12.00")
    assert QualitySchedule.objects.filter(commodity=cotton).count() == 1

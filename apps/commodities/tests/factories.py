"""Factories of the commodities app. Units come from `units()` (the seeded table); the cotton
commodity and the exchange-style schedule are built here with SPEC section 5's numbers written
out, independently of the seed module (a seed change must not silently move test expectations).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import factory

from apps.commodities.models import (
    Commodity,
    CommodityCategory,
    ParameterKind,
    QualityParameter,
    QualitySchedule,
    TermKind,
    TradeTerm,
    Unit,
    Variety,
)
from apps.commodities.services.schedules import RuleSpec, schedule_activate, schedule_create

UNIT_FACTORS = {
    "KG": D("1"),
    "QUINTAL": D("100"),
    "MT": D("1000"),
    "BALE": D("170"),
    "CANDY": D("355.62"),
    "MAUND": D("37.3242"),
    "LB": D("0.45359237"),
}


def units() -> dict[str, Unit]:
    """The unit table (created once per test database transaction)."""
    found = {}
    for code, factor in UNIT_FACTORS.items():
        found[code], _ = Unit.objects.get_or_create(code=code, defaults={"name": code.title(), "factor_to_kg": factor})
    return found


def unsaved_units() -> dict[str, Unit]:
    """The same units as plain objects, for pure conversion tests that need no database."""
    return {code: Unit(code=code, name=code, factor_to_kg=factor) for code, factor in UNIT_FACTORS.items()}


class CommodityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commodity

    code = factory.Sequence(lambda n: f"COMMODITY{n}")
    name = factory.Sequence(lambda n: f"Commodity {n}")
    category = CommodityCategory.FIBRE
    hsn_code = "5201"
    gst_rate = D("5.00")
    base_unit = factory.LazyFunction(lambda: units()["KG"])
    trade_unit = factory.LazyFunction(lambda: units()["BALE"])
    rate_unit = factory.LazyFunction(lambda: units()["CANDY"])


class VarietyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variety

    commodity = factory.SubFactory(CommodityFactory)
    code = factory.Sequence(lambda n: f"VARIETY-{n}")
    name = factory.Sequence(lambda n: f"Variety {n}")


class QualityParameterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualityParameter

    commodity = factory.SubFactory(CommodityFactory)
    code = factory.Sequence(lambda n: f"parameter_{n}")
    name = factory.Sequence(lambda n: f"Parameter {n}")
    kind = ParameterKind.NUMERIC
    min_value = D("0")
    max_value = D("100")


class TradeTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TradeTerm

    kind = TermKind.TRADE_TYPE
    code = factory.Sequence(lambda n: f"TERM_{n}")
    name = factory.Sequence(lambda n: f"Term {n}")


# name, kind, unit, min, max, mandatory, decimals (SPEC section 5)
COTTON_NUMERIC = [
    ("staple_length", "mm", "22", "34", True, 1),
    ("micronaire", "", "2.5", "6.0", True, 2),
    ("strength", "g/tex", "22", "35", True, 1),
    ("trash", "%", "0", "8", False, 2),
    ("moisture", "%", "5", "12", False, 2),
    ("uniformity", "%", "75", "88", False, 1),
    ("rd", "", "65", "85", False, 1),
    ("plus_b", "", "6", "14", False, 1),
]
COLOR_GRADES = ["11-1", "21-1", "21-2", "31-1", "31-2", "31-3", "41-1", "41-2", "41-3", "41-4", "51-3"]


def cotton(code: str = "COTTON") -> Commodity:
    """COTTON with the SPEC's default parameters and two varieties."""
    u = units()
    commodity = CommodityFactory(
        code=code, name=f"Cotton lint {code}", base_unit=u["KG"], trade_unit=u["BALE"], rate_unit=u["CANDY"]
    )
    for order, (param, unit, low, high, mandatory, decimals) in enumerate(COTTON_NUMERIC, start=1):
        QualityParameterFactory(
            commodity=commodity,
            code=param,
            name=param.replace("_", " ").title(),
            unit=unit,
            min_value=D(low),
            max_value=D(high),
            is_mandatory=mandatory,
            decimals=decimals,
            order=order,
        )
    QualityParameterFactory(
        commodity=commodity,
        code="color_grade",
        name="Colour grade",
        kind=ParameterKind.GRADE,
        min_value=None,
        max_value=None,
        allowed_values=COLOR_GRADES,
        order=99,
    )
    VarietyFactory(commodity=commodity, code="SHANKAR-6", name="Shankar-6")
    VarietyFactory(commodity=commodity, code="DCH-32", name="DCH-32")
    return commodity


def band(parameter: str, lower: str | None, upper: str | None, percent: str) -> RuleSpec:
    return RuleSpec(
        parameter,
        "BAND",
        lower=None if lower is None else D(lower),
        upper=None if upper is None else D(upper),
        adjustment_kind="PERCENT",
        value=D(percent),
    )


def ratio(parameter: str, *, basis: str, limit: str, percent_per_point: str) -> RuleSpec:
    low, high = sorted([D(basis), D(limit)])
    return RuleSpec(
        parameter,
        "RATIO",
        lower=low,
        upper=high,
        basis=D(basis),
        adjustment_kind="PERCENT",
        value=D(percent_per_point),
        step=D("1"),
    )


def reject_below(parameter: str, bound: str) -> RuleSpec:
    return RuleSpec(parameter, "REJECT_BELOW", lower=D(bound))


def reject_above(parameter: str, bound: str) -> RuleSpec:
    return RuleSpec(parameter, "REJECT_ABOVE", upper=D(bound))


# SPEC section 5, "an exchange-style 29 mm contract", written out.
EXCHANGE_RULES = [
    reject_below("staple_length", "27.0"),
    band("staple_length", "27.0", "27.9", "-7"),
    band("staple_length", "28.0", "28.4", "-3"),
    band("staple_length", "28.5", "29.5", "0"),
    band("staple_length", "29.6", "30.0", "1"),
    band("staple_length", "30.1", "31.0", "2"),
    reject_below("micronaire", "3.5"),
    band("micronaire", "3.5", "3.59", "-0.3"),
    band("micronaire", "3.6", "4.8", "0"),
    band("micronaire", "4.81", "4.9", "-0.3"),
    reject_above("micronaire", "4.9"),
    ratio("trash", basis="3.5", limit="5.0", percent_per_point="-1"),  # discount 1:1 above the basis
    ratio("trash", basis="3.5", limit="2.0", percent_per_point="0.5"),  # premium 1:0.5 below it
    reject_above("trash", "5.0"),
    ratio("moisture", basis="8.5", limit="9.5", percent_per_point="-1"),
]


def exchange_schedule(
    commodity: Commodity, *, activate: bool = True, rules: list[RuleSpec] | None = None
) -> QualitySchedule:
    schedule = schedule_create(
        actor=None,
        commodity_id=commodity.id,
        name="Exchange-style 29 mm contract",
        basis_description="29 mm, micronaire 3.6-4.8, trash 3.5%, moisture 8.5%",
        effective_from=date(2026, 10, 1),
        rules=EXCHANGE_RULES if rules is None else rules,
    )
    if activate:
        schedule_activate(actor=None, commodity_id=commodity.id, schedule_id=schedule.id)
    return schedule

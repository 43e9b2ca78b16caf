"""Reference data of the commodities app (a MASTER seeder: safe in production).

Idempotent and conservative: rows are found by their natural key (unit code, commodity code,
variety code, parameter code, term kind + code) and created when missing; an existing row is
left as it is, so re-running `seed_masters` never undoes a platform admin's edits. Everything
goes through the services, so each created row has its event and audit snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal as D
from typing import Any

from apps.commodities.models import (
    AdjustmentKind,
    CommissionStructure,
    Commodity,
    ParameterKind,
    QualityParameter,
    QualitySchedule,
    RuleKind,
    TermKind,
    TradeTerm,
    Unit,
    Variety,
)
from apps.commodities.services.commissions import commission_create
from apps.commodities.services.commodities import commodity_create
from apps.commodities.services.parameters import parameter_create
from apps.commodities.services.schedules import RuleSpec, schedule_activate, schedule_create
from apps.commodities.services.terms import term_create
from apps.commodities.services.units import unit_create
from apps.commodities.services.varieties import variety_create
from apps.core.seeding import SeedReport

# (code, name, factor to kg): exact, SPEC section 5.
UNITS: list[tuple[str, str, D]] = [
    ("KG", "Kilogram", D("1")),
    ("QUINTAL", "Quintal (100 kg)", D("100")),
    ("MT", "Metric tonne", D("1000")),
    ("BALE", "Bale (Indian lint bale, 170 kg)", D("170")),
    ("CANDY", "Candy (355.62 kg, Indian trade convention)", D("355.62")),
    ("MAUND", "Maund (37.3242 kg)", D("37.3242")),
    ("LB", "Pound (0.45359237 kg)", D("0.45359237")),
]

COLOR_GRADES = ["11-1", "21-1", "21-2", "31-1", "31-2", "31-3", "41-1", "41-2", "41-3", "41-4", "51-3"]


def numeric(
    code: str,
    name: str,
    unit: str,
    low: str,
    high: str,
    *,
    mandatory: bool = False,
    decimals: int = 2,
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": ParameterKind.NUMERIC,
        "unit": unit,
        "min_value": D(low),
        "max_value": D(high),
        "decimals": decimals,
        "is_mandatory": mandatory,
    }


def grade(code: str, name: str, values: list[str], *, mandatory: bool = False) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": ParameterKind.GRADE,
        "allowed_values": values,
        "is_mandatory": mandatory,
    }


# SPEC section 5: the cotton defaults. `decimals` is the reporting precision schedules read.
COTTON_PARAMETERS = [
    numeric("staple_length", "Staple length", "mm", "22", "34", mandatory=True, decimals=1),
    numeric("micronaire", "Micronaire", "", "2.5", "6.0", mandatory=True, decimals=2),
    numeric("strength", "Strength", "g/tex", "22", "35", mandatory=True, decimals=1),
    numeric("trash", "Trash", "%", "0", "8", decimals=2),
    numeric("moisture", "Moisture", "%", "5", "12", decimals=2),
    numeric("uniformity", "Uniformity index", "%", "75", "88", decimals=1),
    numeric("rd", "Reflectance (Rd)", "", "65", "85", decimals=1),
    numeric("plus_b", "Yellowness (+b)", "", "6", "14", decimals=1),
    grade("color_grade", "Colour grade", COLOR_GRADES),
]

COTTON_VARIETIES = ["Shankar-6", "DCH-32", "MCU-5", "J-34", "Bunny", "Suvin", "LRA-5166"]


@dataclass
class CommoditySeed:
    code: str
    name: str
    category: str
    hsn_code: str
    gst_rate: D
    trade_unit: str
    rate_unit: str
    description: str
    parameters: list[dict[str, Any]]
    varieties: list[str] = field(default_factory=list)


COMMODITIES = [
    CommoditySeed(
        "COTTON",
        "Cotton (lint)",
        "FIBRE",
        "5201",
        D("5.00"),
        "BALE",
        "CANDY",
        "Ginned cotton lint, not carded or combed; traded in 170 kg bales, priced per candy.",
        COTTON_PARAMETERS,
        COTTON_VARIETIES,
    ),
    CommoditySeed(
        "KAPAS",
        "Kapas (seed cotton)",
        "RAW",
        "5201",
        D("5.00"),
        "QUINTAL",
        "QUINTAL",
        "Unginned seed cotton bought from farmers and mandis; priced per quintal.",
        [
            numeric("moisture", "Moisture", "%", "5", "20", mandatory=True),
            numeric("trash", "Trash", "%", "0", "10"),
            numeric("staple_length", "Staple length", "mm", "22", "34", decimals=1),
            numeric("ginning_outturn", "Ginning outturn (GOT)", "%", "28", "42", decimals=1),
        ],
        ["Shankar-6", "DCH-32", "MCU-5", "J-34", "Bunny"],
    ),
    CommoditySeed(
        "COTTONSEED",
        "Cottonseed",
        "SEED",
        "1207",
        D("5.00"),
        "QUINTAL",
        "QUINTAL",
        "Cotton seed from ginning, for crushing (oil and cake); priced per quintal.",
        [
            numeric("oil_content", "Oil content", "%", "12", "24", mandatory=True),
            numeric("moisture", "Moisture", "%", "4", "12"),
            numeric("damaged", "Damaged seed", "%", "0", "10"),
        ],
    ),
    CommoditySeed(
        "YARN",
        "Cotton yarn",
        "YARN",
        "5205",
        D("5.00"),
        "KG",
        "KG",
        "Cotton yarn (85% cotton or more), not put up for retail sale; priced per kg.",
        [
            numeric("count", "Count (Ne)", "Ne", "4", "120", mandatory=True, decimals=0),
            grade("spinning", "Spinning", ["CARDED", "COMBED", "COMPACT", "OPEN_END"], mandatory=True),
            numeric("csp", "Count strength product (CSP)", "", "1500", "3500", decimals=0),
            numeric("unevenness", "Unevenness (U%)", "%", "6", "16"),
        ],
    ),
]

TERMS: list[dict[str, Any]] = [
    {"kind": TermKind.TRADE_TYPE, "code": "SPOT", "name": "Spot", "description": "Ready goods, delivery at once."},
    {"kind": TermKind.TRADE_TYPE, "code": "FORWARD", "name": "Forward", "description": "Delivery at a future date."},
    {"kind": TermKind.BARGAIN_TYPE, "code": "FIRM", "name": "Firm", "description": "Binding once confirmed."},
    {
        "kind": TermKind.BARGAIN_TYPE,
        "code": "SUBJECT_TO_SAMPLE",
        "name": "Subject to sample approval",
        "description": "Binding once the buyer approves the sample.",
    },
    {
        "kind": TermKind.PASSING,
        "code": "SELLER_GIN_2PCT",
        "name": "Quality final at seller's gin",
        "description": "Quality final at seller's gin on 2% sampling.",
    },
    {
        "kind": TermKind.PASSING,
        "code": "BUYER_CONTROLLER",
        "name": "Buyer's controller passes",
        "description": "Buyer's controller passes within 2 working days of the lot being ready.",
    },
    {
        "kind": TermKind.WEIGHTMENT,
        "code": "SELLER_WEIGHBRIDGE",
        "name": "Weight final at seller's weighbridge",
        "description": "Weight final at seller's weighbridge.",
        "shortage_allowance_kg_per_100_bales": D("50"),
    },
    {
        "kind": TermKind.WEIGHTMENT,
        "code": "BUYER_WEIGHBRIDGE",
        "name": "Weight final at buyer's weighbridge",
        "description": "Weight final at buyer's weighbridge; shortage beyond the allowance is claimed.",
        "shortage_allowance_kg_per_100_bales": D("100"),
    },
    {"kind": TermKind.DELIVERY, "code": "EX_GIN", "name": "Ex gin", "description": "Buyer lifts at the seller's gin."},
    {
        "kind": TermKind.DELIVERY,
        "code": "EX_WAREHOUSE",
        "name": "Ex warehouse",
        "description": "Buyer lifts at the named warehouse.",
    },
    {
        "kind": TermKind.DELIVERY,
        "code": "DELIVERED",
        "name": "Delivered",
        "description": "Seller delivers to the buyer's mill.",
    },
    {
        "kind": TermKind.PAYMENT,
        "code": "ADVANCE_100",
        "name": "Full advance",
        "description": "100% before dispatch.",
        "advance_percent": D("100"),
        "payment_days": 0,
        "carry_charge_percent_per_annum": D("0"),
    },
    {
        "kind": TermKind.PAYMENT,
        "code": "ADV10_BAL7",
        "name": "10% advance, balance in 7 days",
        "description": "10% advance; balance within 7 days of delivery; 18% p.a. on late payment.",
        "advance_percent": D("10"),
        "payment_days": 7,
        "carry_charge_percent_per_annum": D("18"),
    },
    {
        "kind": TermKind.PAYMENT,
        "code": "CREDIT_30",
        "name": "30 days credit",
        "description": "Payment within 30 days of delivery; 18% p.a. on late payment.",
        "advance_percent": D("0"),
        "payment_days": 30,
        "carry_charge_percent_per_annum": D("18"),
    },
]

# (commodity, trade type, basis, rate, unit, applies to, name)
COMMISSIONS = [
    ("COTTON", "SPOT", "FIXED", D("25"), "BALE", "BOTH", "Brokerage Rs 25 per bale each side"),
    ("COTTON", "FORWARD", "PERCENTAGE", D("0.25"), None, "BOTH", "Brokerage 0.25% each side"),
]

EXCHANGE_SCHEDULE_NAME = "Exchange-style 29 mm contract"
EXCHANGE_SCHEDULE_BASIS = "Staple 28.5-29.5 mm, micronaire 3.6-4.8, trash 3.5%, moisture 8.5%"


def _pct(parameter: str, lower: str | None, upper: str | None, value: str) -> RuleSpec:
    return RuleSpec(
        parameter=parameter,
        kind=RuleKind.BAND,
        lower=None if lower is None else D(lower),
        upper=None if upper is None else D(upper),
        adjustment_kind=AdjustmentKind.PERCENT,
        value=D(value),
    )


def _ratio(parameter: str, basis: str, limit: str, per_point: str) -> RuleSpec:
    low, high = sorted([D(basis), D(limit)])
    return RuleSpec(
        parameter=parameter,
        kind=RuleKind.RATIO,
        lower=low,
        upper=high,
        basis=D(basis),
        adjustment_kind=AdjustmentKind.PERCENT,
        value=D(per_point),
        step=D("1"),
    )


# SPEC section 5's exchange-style 29 mm contract.
EXCHANGE_29MM_RULES = [
    RuleSpec("staple_length", RuleKind.REJECT_BELOW, lower=D("27.0")),
    _pct("staple_length", "27.0", "27.9", "-7"),
    _pct("staple_length", "28.0", "28.4", "-3"),
    _pct("staple_length", "28.5", "29.5", "0"),
    _pct("staple_length", "29.6", "30.0", "1"),
    _pct("staple_length", "30.1", "31.0", "2"),
    RuleSpec("micronaire", RuleKind.REJECT_BELOW, lower=D("3.5")),
    _pct("micronaire", "3.5", "3.59", "-0.3"),
    _pct("micronaire", "3.6", "4.8", "0"),
    _pct("micronaire", "4.81", "4.9", "-0.3"),
    RuleSpec("micronaire", RuleKind.REJECT_ABOVE, upper=D("4.9")),
    _ratio("trash", "3.5", "5.0", "-1"),
    _ratio("trash", "3.5", "2.0", "0.5"),
    RuleSpec("trash", RuleKind.REJECT_ABOVE, upper=D("5.0")),
    _ratio("moisture", "8.5", "9.5", "-1"),
]


def _seed_commodity(spec: CommoditySeed, report: SeedReport) -> Commodity:
    commodity = Commodity.objects.filter(code=spec.code).first()
    if commodity is None:
        commodity = commodity_create(
            actor=None,
            code=spec.code,
            name=spec.name,
            category=spec.category,
            hsn_code=spec.hsn_code,
            gst_rate=spec.gst_rate,
            trade_unit=spec.trade_unit,
            rate_unit=spec.rate_unit,
            description=spec.description,
        )
    existing = set(QualityParameter.objects.filter(commodity=commodity).values_list("code", flat=True))
    for order, parameter in enumerate(spec.parameters, start=1):
        if parameter["code"] not in existing:
            parameter_create(actor=None, commodity_id=commodity.id, order=order * 10, **parameter)
    varieties = set(Variety.objects.filter(commodity=commodity).values_list("code", flat=True))
    for name in spec.varieties:
        if name.upper() not in varieties:
            variety_create(actor=None, commodity_id=commodity.id, code=name.upper(), name=name)
    return commodity


def seed_commodities(report: SeedReport) -> None:
    units = set(Unit.objects.values_list("code", flat=True))
    for code, name, factor in UNITS:
        if code not in units:
            unit_create(actor=None, code=code, name=name, factor_to_kg=factor)
    commodities = {spec.code: _seed_commodity(spec, report) for spec in COMMODITIES}
    terms = set(TradeTerm.objects.values_list("kind", "code"))
    for term in TERMS:
        if (term["kind"], term["code"]) not in terms:
            term_create(actor=None, **term)
    for commodity_code, trade_type, basis, rate, unit, applies_to, name in COMMISSIONS:
        commodity = commodities[commodity_code]
        if not CommissionStructure.objects.filter(commodity=commodity, trade_type__code=trade_type).exists():
            commission_create(
                actor=None,
                commodity_id=commodity.id,
                trade_type=trade_type,
                basis=basis,
                rate=rate,
                unit=unit,
                applies_to=applies_to,
                name=name,
            )
    cotton = commodities["COTTON"]
    if not QualitySchedule.objects.filter(commodity=cotton).exists():
        schedule = schedule_create(
            actor=None,
            commodity_id=cotton.id,
            name=EXCHANGE_SCHEDULE_NAME,
            basis_description=EXCHANGE_SCHEDULE_BASIS,
            effective_from=date(2026, 10, 1),
            rules=EXCHANGE_29MM_RULES,
        )
        schedule_activate(actor=None, commodity_id=cotton.id, schedule_id=schedule.id)
    report.context["commodities"] = commodities
    report.lines.append(
        f"commodities: {', '.join(commodities)}; units: {', '.join(code for code, _, _ in UNITS)}; "
        f"{TradeTerm.objects.count()} trade terms"
    )

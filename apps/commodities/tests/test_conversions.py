"""Unit conversions: exact factors, Decimal only, rounded once at the edge (quantities to 3
decimals, money to 2, half-up). The expected values are worked out by hand in the comments."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.commodities.conversions import amount, convert, convert_price, price_per_kg, round_half_up, to_kg
from apps.commodities.errors import UnknownUnit
from apps.commodities.tests.factories import UNIT_FACTORS, unsaved_units

U = unsaved_units()
KG, QUINTAL, MT, BALE, CANDY, MAUND, LB = (U[c] for c in ("KG", "QUINTAL", "MT", "BALE", "CANDY", "MAUND", "LB"))

PROPERTY = settings(max_examples=200, deadline=None)
quantities = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=Decimal("0.01"), max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
any_unit = st.sampled_from(list(U.values()))


def exact_rounded(value: Fraction, places: int) -> Decimal:
    """The oracle: an exact non-negative rational rounded once, half-up, by integer arithmetic."""
    assert value >= 0
    scaled = math.floor(value * 10**places + Fraction(1, 2))
    return Decimal(scaled).scaleb(-places).quantize(Decimal(1).scaleb(-places))


# --- the worked example: 100 bales at 60,000 per candy ----------------------------------------


def test_100_bales_are_17000_kg():
    assert convert(Decimal("100"), BALE, KG) == Decimal("17000.000")
    assert to_kg(Decimal("100"), BALE) == Decimal("17000.000")


def test_100_bales_are_47_804_candies():
    # 17000 / 355.62 = 47.80383...: the third decimal rounds up (the brief's 47.803 truncates).
    assert convert(Decimal("100"), BALE, CANDY) == Decimal("47.804")


def test_60000_per_candy_is_168_72_per_kg():
    # 60000 / 355.62 = 168.71942...
    assert price_per_kg(Decimal("60000"), CANDY) == Decimal("168.72")


def test_60000_per_candy_is_28682_30_per_bale():
    # 60000 x 170 / 355.62 = 10,200,000 / 355.62 = 28682.29908...
    assert convert_price(Decimal("60000"), CANDY, BALE) == Decimal("28682.30")


def test_the_amount_is_rounded_once_from_the_exact_price_not_from_the_rounded_price_per_kg():
    # 17000 kg x (60000 / 355.62) = 1,020,000,000 / 355.62 = 2,868,230.1333...
    # (check: 355.62 x 2,868,230 = 1,019,999,952.6; the remaining 47.4 / 355.62 = 0.1333).
    total = amount(Decimal("100"), BALE, Decimal("60000"), CANDY)

    assert total == Decimal("2868230.13")
    assert Decimal("17000") * Decimal("168.72") == Decimal("2868240.00")  # rounding early costs 9.87


@pytest.mark.parametrize(
    ("quantity", "source", "target", "expected"),
    [
        ("1", MT, CANDY, "2.812"),  # 1000 / 355.62 = 2.81199...
        ("10", QUINTAL, MAUND, "26.792"),  # 1000 / 37.3242 = 26.79227...
        ("1000", LB, KG, "453.592"),  # 453.59237
        ("1", CANDY, BALE, "2.092"),  # 355.62 / 170 = 2.09188...
        ("2.5", MAUND, KG, "93.311"),  # 93.3105, a tie: half-up
        ("0", BALE, CANDY, "0.000"),
        ("-1", CANDY, BALE, "-2.092"),  # signs are kept; ties go away from zero
    ],
)
def test_conversions_between_units(quantity, source, target, expected):
    assert convert(Decimal(quantity), source, target) == Decimal(expected)


def test_results_carry_their_quantum():
    assert str(convert(Decimal("100"), BALE, KG)) == "17000.000"
    assert str(price_per_kg(Decimal("35562"), CANDY)) == "100.00"


def test_ties_round_half_up_away_from_zero_like_decimal():
    assert round_half_up(Fraction(5, 10000), 3) == Decimal("0.001")
    assert round_half_up(Fraction(-5, 10000), 3) == Decimal("-0.001")
    assert round_half_up(Fraction(4999, 10000000), 3) == Decimal("0.000")


@pytest.mark.parametrize("bad", [1.5, 0.1, float("nan")])
def test_floats_are_refused(bad):
    with pytest.raises(TypeError):
        convert(bad, BALE, KG)
    with pytest.raises(TypeError):
        price_per_kg(bad, CANDY)
    with pytest.raises(TypeError):
        amount(Decimal(1), BALE, bad, CANDY)


def test_ints_are_accepted_and_infinity_is_not():
    assert convert(100, BALE, KG) == Decimal("17000.000")
    with pytest.raises(ValueError, match="finite"):
        convert(Decimal("Infinity"), BALE, KG)


# --- properties -------------------------------------------------------------------------------


@PROPERTY
@given(quantity=quantities, a=any_unit, b=any_unit)
def test_a_round_trip_comes_back_within_the_rounding(quantity, a, b):
    there = convert(quantity, a, b)
    back = convert(there, b, a)

    # Two roundings: half a step of b (in a's terms) there, half a step of a back. The stated
    # bound, 0.001 plus one rounding step of b expressed in a, holds with room to spare.
    step_of_b_in_a = Decimal("0.001") * b.factor_to_kg / a.factor_to_kg
    assert abs(back - quantity) <= Decimal("0.001") + step_of_b_in_a


@PROPERTY
@given(quantity=quantities, unit=any_unit, price=prices, price_unit=any_unit)
def test_an_amount_equals_the_exact_rational_amount_rounded_once(quantity, unit, price, price_unit):
    exact = Fraction(quantity) * Fraction(unit.factor_to_kg) * Fraction(price) / Fraction(price_unit.factor_to_kg)

    assert amount(quantity, unit, price, price_unit) == exact_rounded(exact, 2)


@PROPERTY
@given(quantity=quantities, a=any_unit, b=any_unit)
def test_a_conversion_equals_the_exact_rational_quantity_rounded_once(quantity, a, b):
    exact = Fraction(quantity) * Fraction(a.factor_to_kg) / Fraction(b.factor_to_kg)

    assert convert(quantity, a, b) == exact_rounded(exact, 3)


@PROPERTY
@given(price=prices, unit=any_unit)
def test_a_price_per_kg_is_the_price_divided_by_the_factor_rounded_once(price, unit):
    assert price_per_kg(price, unit) == exact_rounded(Fraction(price) / Fraction(unit.factor_to_kg), 2)


@PROPERTY
@given(value=st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**6), max_value=10**6))
def test_rounding_matches_decimal_round_half_up(value):
    assert round_half_up(Fraction(value), 3) == value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


@PROPERTY
@given(value=st.floats(), a=any_unit, b=any_unit)
def test_any_float_is_a_type_error(value, a, b):
    with pytest.raises(TypeError):
        convert(value, a, b)
    with pytest.raises(TypeError):
        price_per_kg(value, a)
    with pytest.raises(TypeError):
        amount(Decimal("1"), a, value, b)


# --- units by code, from the table ------------------------------------------------------------


@pytest.mark.django_db
def test_units_can_be_named_by_code(units):
    assert convert(Decimal("100"), "BALE", "candy") == Decimal("47.804")


@pytest.mark.django_db
def test_an_unknown_unit_code_is_a_field_error(units):
    with pytest.raises(UnknownUnit) as refused:
        convert(Decimal("1"), "BALE", "TOLA")

    assert refused.value.status == 400
    assert refused.value.errors == [
        {"attr": "to_unit", "code": "unknown_unit", "detail": "No active unit has the code 'TOLA'."}
    ]


@pytest.mark.django_db
def test_the_unit_table_holds_the_exact_factors(units):
    from apps.commodities.models import Unit

    assert {u.code: u.factor_to_kg for u in Unit.objects.all()} == UNIT_FACTORS

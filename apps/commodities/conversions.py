"""Unit conversions in exact arithmetic, rounded once, at the edge.

Every result is computed as one exact rational number (`fractions.Fraction` of the Decimal
inputs: no intermediate value is ever rounded) and then rounded half-up (ties away from zero,
as `decimal.ROUND_HALF_UP`) to its quantum: quantities to 3 decimals (grams of a kg quantity),
money to 2 (paise). A price per CANDY converts to a price per kg by dividing it by the
candy's factor (355.62).

Floats are refused with TypeError: 0.1 is not a decimal number, and a float that slips in
once silently corrupts money.

Units are `Unit` rows (or anything with `code` and `factor_to_kg`), or unit codes, which are
looked up among the active units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from apps.commodities.errors import UnknownUnit
from apps.commodities.models import Commodity, Unit

QUANTITY_PLACES = 3
MONEY_PLACES = 2


class HasFactor(Protocol):
    code: str
    factor_to_kg: Decimal


UnitLike = HasFactor | str


def exact(value: object, *, name: str = "value") -> Fraction:
    """The exact rational value of a Decimal or int. Floats (and bools) are a TypeError."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal or an int, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value}")
    return Fraction(value)


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact rational half-up (ties away from zero) to `places` decimals, exactly."""
    scaled = value * 10**places
    negative = scaled < 0
    quotient, remainder = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        quotient += 1
    digits = tuple(int(c) for c in str(quotient))
    return Decimal((1 if negative and quotient else 0, digits, -places))


def resolve_unit(unit: UnitLike, *, field: str = "unit") -> HasFactor:
    if not isinstance(unit, str):
        return unit
    found = Unit.objects.filter(code=unit.strip().upper(), is_active=True).first()
    if found is None:
        raise UnknownUnit.for_field(field, f"No active unit has the code {unit!r}.", code="unknown_unit")
    return found


def _factor(unit: UnitLike, field: str) -> Fraction:
    return Fraction(resolve_unit(unit, field=field).factor_to_kg)


def convert(quantity: Decimal, from_unit: UnitLike, to_unit: UnitLike) -> Decimal:
    """`quantity` in `from_unit`, expressed in `to_unit`, to 3 decimals.

    >>> convert(Decimal("100"), bale, candy)  # 100 x 170 / 355.62 = 47.80383...
    Decimal('47.804')
    """
    q = exact(quantity, name="quantity")
    return round_half_up(q * _factor(from_unit, "from_unit") / _factor(to_unit, "to_unit"), QUANTITY_PLACES)


def to_kg(quantity: Decimal, unit: UnitLike) -> Decimal:
    """`quantity` in `unit`, in kilograms (3 decimals)."""
    return round_half_up(exact(quantity, name="quantity") * _factor(unit, "unit"), QUANTITY_PLACES)


def price_per_kg(price: Decimal, price_unit: UnitLike) -> Decimal:
    """A price per `price_unit` as a price per kg (2 decimals): divide by the unit's factor.

    >>> price_per_kg(Decimal("60000"), candy)  # 60000 / 355.62 = 168.7194...
    Decimal('168.72')
    """
    return round_half_up(exact(price, name="price") / _factor(price_unit, "price_unit"), MONEY_PLACES)


def convert_price(price: Decimal, from_unit: UnitLike, to_unit: UnitLike) -> Decimal:
    """A price per `from_unit` as a price per `to_unit` (2 decimals), from the exact price."""
    p = exact(price, name="price")
    return round_half_up(p * _factor(to_unit, "to_unit") / _factor(from_unit, "from_unit"), MONEY_PLACES)


def amount(quantity: Decimal, quantity_unit: UnitLike, price: Decimal, price_unit: UnitLike) -> Decimal:
    """quantity (in kg) x price (per kg), computed exactly and rounded once to paise."""
    q = exact(quantity, name="quantity") * _factor(quantity_unit, "quantity_unit")
    per_kg = exact(price, name="price") / _factor(price_unit, "price_unit")
    return round_half_up(q * per_kg, MONEY_PLACES)


@dataclass(frozen=True)
class ConversionQuote:
    """What `POST /commodities/{id}/conversions` answers: the quantity in the commodity's units and
    the entered one, the price per kg and per those units, the amount, and the factors used."""

    commodity: str
    quantity: Decimal
    unit: str
    quantities: dict[str, Decimal]
    quantity_kg: Decimal
    price: Decimal | None
    price_unit: str | None
    prices: dict[str, Decimal]
    price_per_kg: Decimal | None
    amount: Decimal | None
    factors: dict[str, Decimal]


def conversion_quote(
    *,
    commodity: Commodity,
    quantity: Decimal,
    unit: str,
    price: Decimal | None = None,
    price_unit: str | None = None,
) -> ConversionQuote:
    """Convert a quantity (and optionally a price) for one commodity.

    The units shown are the commodity's base (KG), trade and rate units plus the ones entered.
    `price_unit` defaults to the commodity's rate unit. Unknown units are 400 field errors.
    """
    entered = resolve_unit(unit, field="unit")
    priced = resolve_unit(price_unit, field="price_unit") if price_unit else commodity.rate_unit
    units: dict[str, HasFactor] = {}
    for candidate in (commodity.base_unit, commodity.trade_unit, commodity.rate_unit, entered):
        units.setdefault(candidate.code, candidate)
    quantities = {code: convert(quantity, entered, u) for code, u in units.items()}
    factors = {code: u.factor_to_kg for code, u in units.items()}
    prices: dict[str, Decimal] = {}
    per_kg = total = None
    if price is not None:
        units.setdefault(priced.code, priced)
        factors.setdefault(priced.code, priced.factor_to_kg)
        prices = {code: convert_price(price, priced, u) for code, u in units.items()}
        per_kg = price_per_kg(price, priced)
        total = amount(quantity, entered, price, priced)
    return ConversionQuote(
        commodity=commodity.code,
        quantity=quantity,
        unit=entered.code,
        quantities=quantities,
        quantity_kg=to_kg(quantity, entered),
        price=price,
        price_unit=priced.code if price is not None else None,
        prices=prices,
        price_per_kg=per_kg,
        amount=total,
        factors=factors,
    )

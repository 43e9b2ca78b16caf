"""A trade's value and its GST, in Decimal, rounded half-up to the paisa.

- Amount = kg x price per kg. The price per kg is the entered price divided by the price unit's
  factor (a candy is 355.62 kg); the product is computed exactly and rounded once, so a price
  per candy gives the same amount whichever way it is written down.
- GST at the commodity's rate (cotton 5%): intra-state (the bill-to state is the ship-from state)
  CGST and SGST at half the rate each, otherwise IGST at the full rate. Each line is rounded to
  the paisa on its own (as an invoice prints it); the tax is the sum of the lines.
- Place of supply: the bill-to state (goods billed to one party and shipped to another are
  supplied where the bill-to party is; IGST Act s. 10(1)(b)).
- Reverse charge: flagged when the seller supplies as an agriculturist (the buyer then pays the
  tax); the lines are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from apps.commodities.conversions import exact, round_half_up
from apps.core.india import STATES_BY_CODE

PAISA = Decimal("0.01")
TWO = Decimal(2)
HUNDRED = Decimal(100)


def paise(value: Decimal) -> Decimal:
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def amount_of(*, quantity_kg: Decimal, price: Decimal, price_unit_factor: Decimal) -> Decimal:
    """kg x (price / factor), exact (rationals), rounded once half-up to the paisa."""
    return round_half_up(exact(quantity_kg) * exact(price) / exact(price_unit_factor), 2)


def gst_state(code: str) -> str:
    """A state as its two-digit GST code: branches keep that ("24"), locations the two letters
    ("GJ")."""
    code = (code or "").strip().upper()
    if code.isdigit():
        return code
    state = STATES_BY_CODE.get(code)
    return state.gst_code if state is not None else ""


@dataclass(frozen=True)
class GstLines:
    intra_state: bool
    place_of_supply: str
    rate: Decimal
    cgst_rate: Decimal
    sgst_rate: Decimal
    igst_rate: Decimal
    cgst_amount: Decimal
    sgst_amount: Decimal
    igst_amount: Decimal

    @property
    def tax_amount(self) -> Decimal:
        return self.cgst_amount + self.sgst_amount + self.igst_amount


def gst_lines(*, amount: Decimal, rate: Decimal, bill_to_state: str, ship_from_state: str) -> GstLines:
    """The GST lines of `amount` at `rate` percent. Unknown states (a branch not selected yet)
    count as inter-state until they are known; the trade recomputes once they are."""
    intra = bool(bill_to_state) and bill_to_state == ship_from_state
    zero = Decimal("0.00")
    if intra:
        half = rate / TWO
        line = paise(amount * half / HUNDRED)
        return GstLines(True, bill_to_state, rate, half, half, zero, line, line, zero)
    return GstLines(False, bill_to_state, rate, zero, zero, rate, zero, zero, paise(amount * rate / HUNDRED))

"""Plain decimal numbers (issue 14): what a client may write where we expect a number.

Python's Decimal reads far more than a decimal number: "1_000" (underscores), " 12 ", "1e9",
"NaN", "Infinity". Amounts and quantities arrive as JSON numbers or as plain decimal strings
(an optional sign, digits, an optional fraction) and nothing else, so "1_000" is refused
instead of stored as 1000. `parse_plain_decimal` is the one reader; DRF's DecimalField is held to
the same rule (apps/core/apps.py), as are the trade desk's inputs and quality values.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

PLAIN_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")  # ASCII digits only
MAX_NUMBER_CHARS = 100


def is_plain_decimal(text: str) -> bool:
    return len(text) <= MAX_NUMBER_CHARS and PLAIN_DECIMAL.match(text) is not None


def parse_plain_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a Decimal, an int or a plain decimal string; None otherwise.
    Floats raise TypeError (callers turn JSON numbers into Decimals first); bools are None."""
    if isinstance(value, float):
        raise TypeError("numbers must be Decimal, int or str, not float")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and is_plain_decimal(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return None
    return None


def hold_drf_decimal_fields_to_plain_strings() -> None:
    """DRF's DecimalField reads strings with Decimal(): refuse a string that is not a plain
    decimal with the field's own `invalid` error. JSON numbers (floats, ints) are untouched.
    Called once from CoreConfig.ready(), so every serializer's DecimalField follows the rule."""
    from rest_framework import serializers

    field_class = serializers.DecimalField
    if getattr(field_class, "_cotton_plain_strings", False):
        return
    original = field_class.to_internal_value

    def to_internal_value(self: Any, data: Any) -> Decimal:
        if isinstance(data, str) and not is_plain_decimal(data.strip()):
            self.fail("invalid")
        return original(self, data)

    field_class.to_internal_value = to_internal_value  # type: ignore[method-assign,assignment]
    field_class._cotton_plain_strings = True  # type: ignore[attr-defined]

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.formatting import (
    human_label,
    indian_number,
    key_value_table,
    quantity_text,
    rupees,
    state_badge,
    trimmed_number,
)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("1234567.891"), 2, "12,34,567.89"),
        (Decimal("1234567.895"), 2, "12,34,567.90"),
        (Decimal("100"), 2, "100.00"),
        (Decimal("1000"), 2, "1,000.00"),
        (Decimal("100000"), 0, "1,00,000"),
        (Decimal("12345678901.5"), 1, "12,34,56,78,901.5"),
        (Decimal("-1000"), 2, "-1,000.00"),
        (Decimal("-0.004"), 2, "0.00"),
        (0, 2, "0.00"),
        ("60400", 2, "60,400.00"),
        (None, 2, "-"),
        ("not a number", 2, "-"),
        (Decimal("NaN"), 2, "-"),
    ],
)
def test_indian_number_groups_the_last_three_digits_then_pairs(value: object, places: int, expected: str) -> None:
    assert indian_number(value, places) == expected


def _plain_indian_number(value: Decimal, places: int) -> str:
    """The reference: round half up, then cut the whole digits from the right, three, then two
    at a time."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    pairs = [whole[max(0, end - 2) : end] for end in range(len(whole) - 3, 0, -2)]
    grouped = ",".join([*reversed(pairs), whole[-3:]])
    text = f"{grouped}.{fraction}" if places > 0 else grouped
    return f"-{text}" if rounded < 0 else text


@given(
    st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, allow_infinity=False, places=5),
    st.integers(min_value=0, max_value=10),
)
def test_indian_number_writes_what_the_plain_grouping_writes(value: Decimal, places: int) -> None:
    assert indian_number(value, places) == _plain_indian_number(value, places)


@pytest.mark.parametrize(
    "value",
    ["99999.994", "99999.995", "-99999.995", "100000", "-100000", "12345", "-0.005", "0.005", "999.9999", "1e-9"],
)
@pytest.mark.parametrize("places", [0, 1, 2, 3])
def test_indian_number_at_the_lakh_and_at_rounding_edges(value: str, places: int) -> None:
    assert indian_number(Decimal(value), places) == _plain_indian_number(Decimal(value), places)


def test_trimmed_number_drops_trailing_zeros() -> None:
    assert trimmed_number(Decimal("25500.000")) == "25,500"
    assert trimmed_number(Decimal("150.500")) == "150.5"
    assert trimmed_number(Decimal("0.000")) == "0"
    assert trimmed_number(Decimal("169.8442"), 4) == "169.8442"


def test_rupees_and_quantity_text() -> None:
    assert rupees(Decimal("60400")) == "Rs 60,400.00"
    assert rupees(None) == "-"
    assert quantity_text(Decimal("150.000"), "bales") == "150 bales"


def test_state_badge_shows_the_label_with_the_code_as_title() -> None:
    assert state_badge("UNDER_REVIEW", "Under review") == (
        '<span class="bo-badge bo-wait" title="UNDER_REVIEW">Under review</span>'
    )
    assert state_badge("APPROVED", "Approved").startswith('<span class="bo-badge bo-ok"')
    assert state_badge("WHATEVER").startswith('<span class="bo-badge bo-plain"')
    assert state_badge("") == "-"


def test_key_value_table_escapes_its_cells() -> None:
    assert key_value_table([("Staple <mm>", "29")]) == (
        '<table class="bo-kv"><tr><th>Staple &lt;mm&gt;</th><td>29</td></tr></table>'
    )
    assert key_value_table([]) == "-"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Pan", "PAN"),
        ("Gstin", "GSTIN"),
        ("Bank ifsc", "Bank IFSC"),
        ("Address line1", "Address line 1"),
        ("Kyc expires on", "KYC expires on"),
        ('<label for="id_pan">Pan:</label>', '<label for="id_pan">PAN:</label>'),
        ("Company name", "Company name"),
        ("Panel", "Panel"),
    ],
)
def test_human_label_fixes_acronyms_and_trailing_digits(raw: str, expected: str) -> None:
    assert human_label(raw) == expected


@pytest.mark.parametrize(
    ("code", "label"),
    [("ACTIVE", "Active"), ("PENDING", None), ("ODD", 'Odd "<b>" & co'), ("<x>", None), ("SUSPENDED", "Suspended")],
)
def test_state_badge_is_what_format_html_writes(code: str, label: str | None) -> None:
    from django.utils.html import format_html

    from apps.core.formatting import _BADGE_TONES

    tone = next((name for name, codes in _BADGE_TONES.items() if code in codes), "plain")
    expected = format_html('<span class="bo-badge bo-{}" title="{}">{}</span>', tone, code, label or code)

    assert state_badge(code, label) == expected

"""How the back office writes numbers and states for people (issue 17).

Money and quantities in Indian digit grouping (the last three digits, then groups of two:
12,34,567.89), a quantity in the unit it was entered in beside its kilograms, and a state as a
coloured badge with its label rather than its code. One place, so every screen agrees.
"""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any, cast

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Badge colours by state name; a state not listed is grey.
_BADGE_TONES = {
    "ok": {"ACTIVE", "APPROVED", "VERIFIED", "PUBLISHED", "CONFIRMED", "COMPLETED", "DELIVERED", "SETTLED", "ACCEPTED"},
    "wait": {"SUBMITTED", "UNDER_REVIEW", "PENDING", "PENDING_APPROVAL", "INFO_REQUESTED", "OPEN", "PROPOSED", "DRAFT"},
    "bad": {"REJECTED", "BLOCKED", "DEAD", "FAILED", "EXPIRED", "CANCELLED", "WITHDRAWN", "SUSPENDED", "DECLINED"},
}


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def indian_number(value: Any, places: int = 2) -> str:
    """`value` rounded half up to `places` decimals and grouped the Indian way:
    1234567.891 -> "12,34,567.89", -1000 -> "-1,000.00", None -> "-".

    Below 1,00,000 the Indian grouping is the western one, which `format(..., ",f")` writes in C;
    only larger numbers are regrouped here (issue 15: four numbers a row of the big admin lists;
    4.1 us a call before, held equal to the plain implementation by test_formatting.py)."""
    number = _decimal(value)
    if number is None:
        return "-"
    quantum = _QUANTA[places] if 0 <= places < len(_QUANTA) else Decimal(1).scaleb(-places)
    # ROUND_HALF_UP rounds ties away from zero, so rounding the magnitude is rounding the number.
    rounded = abs(number).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 and rounded else ""  # what rounds to zero has no sign
    if rounded < _LAKH:
        return f"{sign}{rounded:,f}"
    whole, _, fraction = f"{rounded:f}".partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    grouped = ",".join([*groups, tail])
    return f"{sign}{grouped}.{fraction}" if places > 0 else f"{sign}{grouped}"


_QUANTA = [Decimal(1).scaleb(-places) for places in range(9)]
_LAKH = Decimal(100_000)


def trimmed_number(value: Any, max_places: int = 3) -> str:
    """Indian grouping with no trailing zeros in the fraction: 25500.000 -> "25,500",
    150.500 -> "150.5"."""
    number = _decimal(value)
    if number is None:
        return "-"
    text = indian_number(number, max_places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def rupees(value: Any, places: int = 2) -> str:
    """ "Rs 12,34,567.89" (or "-")."""
    number = _decimal(value)
    return "-" if number is None else f"Rs {indian_number(number, places)}"


def quantity_text(value: Any, unit: str) -> str:
    """ "150 bales", "25,500 kg"."""
    return f"{trimmed_number(value)} {unit}".strip()


# Each state's tone (the first tone listing it), for state_badge.
_TONE_OF = {code: tone for tone, codes in reversed(_BADGE_TONES.items()) for code in codes}


def state_badge(code: str | None, label: str | None = None) -> SafeString:
    """A small coloured label for a state: the human label, the code in the title."""
    if not code:
        return format_html("{}", "-")
    tone = _TONE_OF.get(code, "plain")
    # format_html's output written directly: this is in every row of the big admin lists.
    return SafeString(f'<span class="bo-badge bo-{tone}" title="{escaped(code)}">{escaped(label or code)}</span>')


def choice_badge(obj: models.Model, field_name: str) -> SafeString:
    """state_badge of a field with choices: its value and `get_<field>_display()`'s label. The
    label comes from the field's choices made into a dict once per process: Django's
    `get_FOO_display` makes it again on every call (100 badges: 0.54 ms that way, 0.13 this way,
    timed; issue 15). Labels stay lazy in the dict, so each call speaks the request's language."""
    field = cast("models.Field[Any, Any]", obj._meta.get_field(field_name))
    value = getattr(obj, field.attname)
    label = _choice_labels(field).get(make_hashable(value), value)
    return state_badge(value, force_str(label, strings_only=True))


@cache
def _choice_labels(field: Any) -> dict[Any, Any]:
    return dict(make_hashable(field.flatchoices))


def escaped(value: Any) -> str:
    """django.utils.html.conditional_escape without its lazy-string wrapper (it is called for
    every cell of the big admin lists)."""
    return str(value.__html__()) if hasattr(value, "__html__") else html.escape(str(value))


def key_value_table(rows: list[tuple[str, str]]) -> SafeString:
    """A small two-column table (quality, specs) instead of JSON."""
    if not rows:
        return format_html("{}", "-")
    body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    return format_html('<table class="bo-kv">{}</table>', body)


# Words Django's automatic labels get wrong ("Pan", "Gstin", "Bank ifsc", "Address line1").
_ACRONYMS = ("pan", "gstin", "gst", "ifsc", "kyc", "iec", "hsn", "cgst", "sgst", "igst", "otp", "url", "id", "uuid")
_ACRONYM_RE = re.compile(r"\b(" + "|".join(_ACRONYMS) + r")\b", re.IGNORECASE)
_TRAILING_DIGIT_RE = re.compile(r"\b([A-Za-z]+)(\d)\b")


def human_label(text: str) -> str:
    """A field label as people write it: "Pan" -> "PAN", "Bank ifsc" -> "Bank IFSC",
    "Address line1" -> "Address line 1". Only whole words change, so HTML attributes such as
    `for="id_pan"` are left alone."""
    text = _ACRONYM_RE.sub(lambda match: match.group(1).upper(), text)
    return _TRAILING_DIGIT_RE.sub(r"\1 \2", text)

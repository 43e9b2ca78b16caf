"""Indian business identifiers: GSTIN (with its check character), PAN, CIN, IFSC, bank account numbers.

Pure functions (no database): organizations use them for their own registrations, partners for
theirs. Each refuses with `FieldInvalid` (400 `validation_failed`) naming the field (`attr`, which
callers may change) and a reason code. Values are checked as given; callers normalise first
(`normalize_identifier`). Messages never repeat the value: exception texts end up in logs.
"""

from __future__ import annotations

import re

from apps.core.india import STATES_BY_GST_CODE, State
from apps.organizations.errors import FieldInvalid

GSTIN_RE = re.compile(r"^\d{2}[A-Z]{5}\d{4}[A-Z][A-Z\d]Z[A-Z\d]$")
PAN_RE = re.compile(r"^[A-Z]{5}\d{4}[A-Z]$")
# Corporate Identification Number: listing (L/U), industry code, state, year, type, registration number.
CIN_RE = re.compile(r"^[LU]\d{5}[A-Z]{2}\d{4}[A-Z]{3}\d{6}$")
IFSC_RE = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
BANK_ACCOUNT_NUMBER_RE = re.compile(r"^\d{9,18}$")

GSTIN_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def normalize_identifier(value: str) -> str:
    """Upper-case, without surrounding or inner blanks: ` 27aapfu0939f1zv ` -> `27AAPFU0939F1ZV`."""
    return re.sub(r"\s+", "", value or "").upper()


def gstin_check_char(first14: str) -> str:
    """The check character of a GSTIN from its first 14 characters.

    The standard mod-36 scheme over the charset 0-9A-Z: each character's value is multiplied by
    1, 2, 1, 2, ... from the left; each product adds its quotient and remainder by 36; the check
    value is (36 - total % 36) % 36.
    """
    if len(first14) != 14 or any(char not in GSTIN_CHARSET for char in first14):
        raise ValueError("gstin_check_char needs the first 14 characters of a GSTIN (0-9, A-Z)")
    total = 0
    for position, char in enumerate(first14):
        product = GSTIN_CHARSET.index(char) * (1 if position % 2 == 0 else 2)
        total += product // 36 + product % 36
    return GSTIN_CHARSET[(36 - total % 36) % 36]


def validate_gstin(value: str, *, pan: str | None = None, attr: str = "gstin") -> State:
    """Check a GSTIN's pattern, state code, check character and (with `pan`) its PAN part.

    Returns the state or union territory the registration belongs to (its first two digits).
    """
    if not GSTIN_RE.match(value or ""):
        raise FieldInvalid(
            attr,
            "invalid_gstin",
            "A GSTIN has 15 characters: a 2-digit state code, the 10-character PAN, an entity "
            "number, Z and a check character (e.g. 27AAPFU0939F1ZV).",
        )
    state = STATES_BY_GST_CODE.get(value[:2])
    if state is None:
        raise FieldInvalid(
            attr, "unknown_gst_state_code", f"The GSTIN starts with {value[:2]}, which is no GST state code."
        )
    if value[14] != gstin_check_char(value[:14]):
        raise FieldInvalid(
            attr,
            "invalid_gstin_check_digit",
            "The GSTIN's last character (its check digit) does not match the first 14 characters; look for a typo.",
        )
    if pan is not None and value[2:12] != pan:
        raise FieldInvalid(
            attr,
            "gstin_pan_mismatch",
            "Characters 3 to 12 of the GSTIN must be the organization's PAN; they are not.",
        )
    return state


def validate_pan(value: str, *, attr: str = "pan") -> None:
    if not PAN_RE.match(value or ""):
        raise FieldInvalid(
            attr, "invalid_pan", "A PAN is 5 letters, 4 digits and a letter, in capitals (e.g. AAPFU0939F)."
        )


def validate_cin(value: str, *, attr: str = "cin") -> None:
    if not CIN_RE.match(value or ""):
        raise FieldInvalid(
            attr,
            "invalid_cin",
            "A CIN has 21 characters: L or U, 5 digits, a 2-letter state, a 4-digit year, 3 letters "
            "and 6 digits (e.g. U17111GJ2010PTC062345).",
        )


def validate_ifsc(value: str, *, attr: str = "ifsc") -> None:
    if not IFSC_RE.match(value or ""):
        raise FieldInvalid(
            attr, "invalid_ifsc", "An IFSC is 4 letters, a zero and 6 letters or digits (e.g. SBIN0001234)."
        )


def validate_bank_account_number(value: str, *, attr: str = "account_number") -> None:
    if not BANK_ACCOUNT_NUMBER_RE.match(value or ""):
        raise FieldInvalid(attr, "invalid_account_number", "A bank account number has 9 to 18 digits and nothing else.")

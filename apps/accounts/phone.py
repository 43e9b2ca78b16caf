"""Mobile numbers: one normal form (E.164) on send, on verify and in storage."""

from __future__ import annotations

import re

from django.conf import settings

from apps.accounts.errors import InvalidMobile

_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_INDIAN_NATIONAL = re.compile(r"^[6-9]\d{9}$")


def normalize_mobile(raw: str) -> str:
    """`98765 43210`, `098765-43210`, `+91 98765 43210` and `919876543210` all give `+919876543210`.

    A number without a country code takes the default one (+91). Raises InvalidMobile.
    """
    number = _SEPARATORS.sub("", raw or "")
    if number.startswith("00"):
        number = "+" + number[2:]
    if not number.startswith("+"):
        cc = settings.PHONE_DEFAULT_COUNTRY_CODE
        if number.startswith("0"):
            number = number.lstrip("0")
        if cc == "91" and len(number) == 12 and number.startswith("91") and _INDIAN_NATIONAL.match(number[2:]):
            number = number[2:]
        if cc == "91" and not _INDIAN_NATIONAL.match(number):
            raise InvalidMobile()
        number = f"+{cc}{number}"
    if not _E164.match(number):
        raise InvalidMobile()
    if number.startswith("+91") and not _INDIAN_NATIONAL.match(number[3:]):
        raise InvalidMobile()
    return number

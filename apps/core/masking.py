"""Masking of personal data in anything we log.

The rules err on the side of hiding: a log line that loses a pincode is cheaper than one that
leaks a customer's mobile number, bank account or a live token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# Keys whose values are never logged, whatever they look like.
_SECRET_KEY_RE = re.compile(
    r"(pass(word)?|secret|token|authorization|cookie|otp|api[_-]?key|signature|session)", re.IGNORECASE
)

_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_EMAIL_RE = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# GSTIN before PAN: a GSTIN contains a PAN.
_GSTIN_RE = re.compile(r"\b(\d{2})[A-Z]{5}\d{4}[A-Z][A-Z\d]Z([A-Z\d])\b")
_PAN_RE = re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b")
# A number stands alone unless it is part of a word or of a decimal (123456.50, 0.123456). A
# full stop after it does not protect it: "call me at 9876543210." must be masked.
_STANDALONE_START = r"(?<!\w)(?<!\d\.)"
_STANDALONE_END = r"(?!\w|\.\d)"
# Dates (2025-11-24 10:30, 24-11-2025 10:30) are not phone numbers.
_NOT_A_DATE = r"(?!\d{4}-\d{2}-\d{2}\b|\d{2}-\d{2}-\d{4}\b)"
# UUIDs (every primary key) are identifiers: numbers are masked around them, never inside.
_UUID_RE = re.compile(r"(\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b)")
# Phone numbers (E.164 or national, with common separators) and bank account numbers (9-18
# digits) both become "last four digits only".
_LONG_NUMBER_RE = re.compile(_STANDALONE_START + _NOT_A_DATE + r"\+?\d(?:[ -]?\d){8,17}" + _STANDALONE_END)
# Six-digit standalone numbers are OTP codes as far as a log is concerned.
_OTP_RE = re.compile(_STANDALONE_START + r"\d{6}" + _STANDALONE_END)


def _keep_last_four(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"{MASK}{digits[-4:]}"


def mask_text(text: str) -> str:
    text = _JWT_RE.sub(f"{MASK}jwt{MASK}", text)
    text = _EMAIL_RE.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", text)
    text = _GSTIN_RE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    text = _PAN_RE.sub(f"{MASK}PAN{MASK}", text)
    parts = _UUID_RE.split(text)  # [text, uuid, text, uuid, ..., text]
    return "".join(part if i % 2 else _mask_numbers(part) for i, part in enumerate(parts))


def _mask_numbers(text: str) -> str:
    text = _LONG_NUMBER_RE.sub(_keep_last_four, text)
    return _OTP_RE.sub(MASK, text)


def mask_value(value: Any, *, key: str | None = None) -> Any:
    """Return a masked copy of `value` (strings, mappings, lists and tuples, recursively)."""
    if key is not None and _SECRET_KEY_RE.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v) for v in value)
    return value

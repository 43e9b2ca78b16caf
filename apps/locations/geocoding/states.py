"""Indian state and union territory codes from the names and codes geocoders use."""

from __future__ import annotations

import re

from apps.core.india import STATES, STATES_BY_CODE

# Older names, spellings with "&", and the ISO 3166-2:IN codes that differ from ours (Google's short names).
_NAME_ALIASES = {
    "orissa": "OD",
    "pondicherry": "PY",
    "uttaranchal": "UK",
    "national capital territory of delhi": "DL",
    "nct of delhi": "DL",
    "new delhi": "DL",
    "dadra and nagar haveli": "DN",
    "daman and diu": "DN",
    "andaman and nicobar": "AN",
}
_CODE_ALIASES = {"TG": "TS", "CT": "CG", "UT": "UK", "OR": "OD", "DH": "DN", "DD": "DN"}


def _normalise(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", name.casefold().replace("&", " and "))).strip()


_BY_NAME = {_normalise(state.name): state.code for state in STATES} | _NAME_ALIASES


def state_code_for(name: str = "", code: str = "") -> str:
    """Our two-letter code for a state's name or code ("Telangana", "TG" -> "TS"); "" if unknown."""
    by_name = _BY_NAME.get(_normalise(name)) if name else None
    if by_name:
        return by_name
    upper = code.strip().upper()
    upper = _CODE_ALIASES.get(upper, upper)
    return upper if upper in STATES_BY_CODE else ""

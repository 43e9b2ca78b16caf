"""Indian states and union territories: two-letter codes, GST state codes, regions.

Shared kernel data: organizations (GSTIN state codes), locations (region and timezone) and
partners (branch GSTINs) all need it, and it changes only with the constitution.
Regions follow SPEC section 4; Meghalaya (ML) is not in the SPEC's list and is put in
NORTHEAST with its neighbours (noted in docs/decisions.md). Territories the SPEC does not place
(DN, LD, AN) are UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    WEST = "WEST"
    SOUTH = "SOUTH"
    NORTH = "NORTH"
    CENTRAL = "CENTRAL"
    EAST = "EAST"
    NORTHEAST = "NORTHEAST"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class State:
    code: str  # two letters, as used in vehicle registrations and the SPEC
    gst_code: str  # two digits: the first two characters of a GSTIN
    name: str
    is_union_territory: bool = False


STATES: tuple[State, ...] = (
    State("JK", "01", "Jammu and Kashmir", True),
    State("HP", "02", "Himachal Pradesh"),
    State("PB", "03", "Punjab"),
    State("CH", "04", "Chandigarh", True),
    State("UK", "05", "Uttarakhand"),
    State("HR", "06", "Haryana"),
    State("DL", "07", "Delhi", True),
    State("RJ", "08", "Rajasthan"),
    State("UP", "09", "Uttar Pradesh"),
    State("BR", "10", "Bihar"),
    State("SK", "11", "Sikkim"),
    State("AR", "12", "Arunachal Pradesh"),
    State("NL", "13", "Nagaland"),
    State("MN", "14", "Manipur"),
    State("MZ", "15", "Mizoram"),
    State("TR", "16", "Tripura"),
    State("ML", "17", "Meghalaya"),
    State("AS", "18", "Assam"),
    State("WB", "19", "West Bengal"),
    State("JH", "20", "Jharkhand"),
    State("OD", "21", "Odisha"),
    State("CG", "22", "Chhattisgarh"),
    State("MP", "23", "Madhya Pradesh"),
    State("GJ", "24", "Gujarat"),
    State("DN", "26", "Dadra and Nagar Haveli and Daman and Diu", True),
    State("MH", "27", "Maharashtra"),
    State("KA", "29", "Karnataka"),
    State("GA", "30", "Goa"),
    State("LD", "31", "Lakshadweep", True),
    State("KL", "32", "Kerala"),
    State("TN", "33", "Tamil Nadu"),
    State("PY", "34", "Puducherry", True),
    State("AN", "35", "Andaman and Nicobar Islands", True),
    State("TS", "36", "Telangana"),
    State("AP", "37", "Andhra Pradesh"),
    State("LA", "38", "Ladakh", True),
)

STATES_BY_CODE: dict[str, State] = {s.code: s for s in STATES}
STATES_BY_GST_CODE: dict[str, State] = {s.gst_code: s for s in STATES}
# GSTINs issued in Daman and Diu before the 2020 merger still carry 25.
STATES_BY_GST_CODE["25"] = STATES_BY_CODE["DN"]

_REGIONS: dict[Region, frozenset[str]] = {
    Region.WEST: frozenset({"MH", "GJ", "RJ", "GA"}),
    Region.SOUTH: frozenset({"TN", "KA", "KL", "AP", "TS", "PY"}),
    Region.NORTH: frozenset({"PB", "HR", "UP", "UK", "HP", "DL", "JK", "LA", "CH"}),
    Region.CENTRAL: frozenset({"MP", "CG"}),
    Region.EAST: frozenset({"WB", "OD", "JH", "BR"}),
    Region.NORTHEAST: frozenset({"AS", "NL", "TR", "MZ", "MN", "SK", "AR", "ML"}),
}


def region_for_state(state_code: str) -> Region:
    code = (state_code or "").upper()
    for region, codes in _REGIONS.items():
        if code in codes:
            return region
    return Region.UNKNOWN


INDIA_TIMEZONE = "Asia/Kolkata"

"""The offline geocoder: Indian states and union territories and the cotton-trade towns shipped
in `apps/locations/data/gazetteer.json` (SPEC section 4). Nothing leaves the machine.

Place ids: `gaz:<town-slug>` (`gaz:rajkot`) and `gaz:state:<code>` (`gaz:state:gj`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from apps.core.india import INDIA_TIMEZONE, STATES_BY_CODE
from apps.locations.errors import PlaceNotFound
from apps.locations.geocoding.base import PlaceDetails, Suggestion, coordinate
from apps.locations.models import LocationSource

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "gazetteer.json"
PREFIX = "gaz:"
STATE_PREFIX = "gaz:state:"

TOWN, STATE = "town", "state"


@dataclass(frozen=True)
class GazetteerEntry:
    place_id: str
    kind: str  # town or state
    name: str
    aliases: tuple[str, ...]
    district: str
    state_code: str
    pincode: str
    latitude: Decimal
    longitude: Decimal

    @property
    def state(self) -> str:
        return STATES_BY_CODE[self.state_code].name

    @property
    def secondary_text(self) -> str:
        if self.kind == STATE:
            kind = "Union territory" if STATES_BY_CODE[self.state_code].is_union_territory else "State"
            return f"{kind} of India"
        if self.district and self.district != self.name:
            return f"{self.district} district, {self.state}"
        return self.state

    def suggestion(self) -> Suggestion:
        return Suggestion(
            place_id=self.place_id,
            description=f"{self.name}, {self.secondary_text}",
            main_text=self.name,
            secondary_text=self.secondary_text,
            kind=self.kind,
        )

    def details(self) -> PlaceDetails:
        if self.kind == STATE:
            address = f"{self.name}, India"
        else:
            address = ", ".join([self.name, " ".join(filter(None, [self.secondary_text, self.pincode])), "India"])
        return PlaceDetails(
            place_id=self.place_id,
            name=self.name,
            source=LocationSource.GAZETTEER.value,
            latitude=self.latitude,
            longitude=self.longitude,
            address=address,
            city=self.name if self.kind == TOWN else "",
            district=self.district,
            state=self.state,
            state_code=self.state_code,
            pincode=self.pincode,
            country="IN",
            timezone=INDIA_TIMEZONE,
        )


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^0-9a-z]+", " ", text.casefold())).strip()


@lru_cache(maxsize=1)
def load_gazetteer() -> tuple[GazetteerEntry, ...]:
    """States first (in apps.core.india's order), then towns (in the file's order)."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    centres = {row["code"]: row for row in data["states"]}
    missing = set(STATES_BY_CODE) ^ set(centres)
    if missing:
        raise ValueError(f"{DATA_FILE.name}: states differ from apps.core.india: {sorted(missing)}")
    entries = [
        GazetteerEntry(
            place_id=f"{STATE_PREFIX}{code.lower()}",
            kind=STATE,
            name=state.name,
            aliases=(code,),
            district="",
            state_code=code,
            pincode="",
            latitude=coordinate(centres[code]["latitude"]),
            longitude=coordinate(centres[code]["longitude"]),
        )
        for code, state in STATES_BY_CODE.items()
    ]
    entries += [
        GazetteerEntry(
            place_id=f"{PREFIX}{row['id']}",
            kind=TOWN,
            name=row["name"],
            aliases=tuple(row.get("aliases", ())),
            district=row["district"],
            state_code=row["state_code"],
            pincode=row["pincode"],
            latitude=coordinate(row["latitude"]),
            longitude=coordinate(row["longitude"]),
        )
        for row in data["towns"]
    ]
    return tuple(entries)


@lru_cache(maxsize=1)
def _by_place_id() -> dict[str, GazetteerEntry]:
    return {entry.place_id: entry for entry in load_gazetteer()}


def gazetteer_towns() -> list[GazetteerEntry]:
    return [entry for entry in load_gazetteer() if entry.kind == TOWN]


def gazetteer_states() -> list[GazetteerEntry]:
    return [entry for entry in load_gazetteer() if entry.kind == STATE]


def _rank(entry: GazetteerEntry, query: str, tokens: list[str]) -> int | None:
    """0 exact name, 1 name starts with the query, 2 every word starts a word of the name,
    3 every word starts a word of the name, district or state; None: no match."""
    names = [_normalise(n) for n in (entry.name, *entry.aliases)]
    if query in names:
        return 0
    if any(name.startswith(query) for name in names):
        return 1
    name_words = {word for name in names for word in name.split()}
    if all(any(word.startswith(token) for word in name_words) for token in tokens):
        return 2
    context_words = name_words | set(_normalise(f"{entry.district} {entry.state}").split())
    if all(any(word.startswith(token) for word in context_words) for token in tokens):
        return 3
    return None


class GazetteerGeocoder:
    source = LocationSource.GAZETTEER.value

    def autocomplete(self, query: str, *, limit: int = 10) -> list[Suggestion]:
        normalised = _normalise(query)
        if not normalised:
            return []
        tokens = normalised.split()
        ranked = []
        for entry in load_gazetteer():
            rank = _rank(entry, normalised, tokens)
            if rank is not None:
                ranked.append((rank, entry.kind != TOWN, entry.name, entry))
        ranked.sort(key=lambda item: item[:3])
        return [entry.suggestion() for *_, entry in ranked[:limit]]

    def place_details(self, place_id: str) -> PlaceDetails:
        entry = _by_place_id().get(place_id.strip().lower())
        if entry is None:
            raise PlaceNotFound(f"The gazetteer has no place {place_id!r}.")
        return entry.details()

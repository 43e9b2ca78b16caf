"""Reference data: the gazetteer's cotton-trade towns as locations. Safe in production; idempotent
by place id (a town loaded before, even if edited or deactivated since, is left as it is)."""

from __future__ import annotations

from apps.core.seeding import SeedReport
from apps.locations.geocoding.gazetteer import gazetteer_towns
from apps.locations.models import Location
from apps.locations.services.locations import location_create_from_details


def seed_locations(report: SeedReport) -> None:
    towns = gazetteer_towns()
    known = set(Location.objects.filter(place_id__in=[t.place_id for t in towns]).values_list("place_id", flat=True))
    for town in towns:
        if town.place_id not in known:
            location_create_from_details(details=town.details(), actor=None)
    # The same line on every run (seed_demo's output is compared between runs).
    report.lines.append(f"locations: {len(towns)} gazetteer towns")

"""The gazetteer towns are reference data: a master seeder loads them, idempotently by place id."""

import pytest

from apps.core.seeding import SeedReport, seeders
from apps.events.models import OutboxEvent
from apps.locations.geocoding.gazetteer import gazetteer_towns
from apps.locations.models import Location
from apps.locations.seed import seed_locations

pytestmark = pytest.mark.django_db


def test_the_locations_seeder_is_a_master_seeder():
    assert "locations" in [name for name, _ in seeders(masters_only=True)]


def test_seeding_loads_every_gazetteer_town_once_with_its_region_and_source():
    towns = gazetteer_towns()

    first = SeedReport()
    seed_locations(first)
    ids = set(Location.objects.values_list("id", flat=True))
    second = SeedReport()
    seed_locations(second)

    assert Location.objects.count() == len(towns)
    assert set(Location.objects.values_list("id", flat=True)) == ids
    assert set(Location.objects.values_list("place_id", flat=True)) == {t.place_id for t in towns}
    assert OutboxEvent.objects.filter(type="locations.location.created").count() == len(towns)
    akola = Location.objects.get(place_id="gaz:akola")
    assert (akola.name, akola.district, akola.state_code, akola.region, akola.source) == (
        "Akola",
        "Akola",
        "MH",
        "WEST",
        "GAZETTEER",
    )
    assert Location.objects.filter(region="UNKNOWN").count() == 0
    assert first.lines == second.lines == [f"locations: {len(towns)} gazetteer towns"]


def test_seeding_keeps_edits_and_deactivations_and_restores_nothing():
    seed_locations(SeedReport())
    Location.objects.filter(place_id="gaz:rajkot").update(address="Market Yard, Rajkot")
    Location.objects.filter(place_id="gaz:kadi").update(is_active=False)

    seed_locations(SeedReport())

    assert Location.objects.get(place_id="gaz:rajkot").address == "Market Yard, Rajkot"
    assert Location.objects.get(place_id="gaz:kadi").is_active is False

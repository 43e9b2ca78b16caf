"""SPEC section 4: the default geocoder is an offline gazetteer shipped with the project: every
state and union territory, and the main cotton-trade towns with district, state and coordinates."""

import re
from decimal import Decimal

import pytest

from apps.core.india import STATES, STATES_BY_CODE
from apps.locations.errors import PlaceNotFound
from apps.locations.geocoding import geocoder_for_place_id, get_geocoder
from apps.locations.geocoding.gazetteer import GazetteerGeocoder, gazetteer_states, gazetteer_towns
from apps.locations.geocoding.google import GoogleMapsGeocoder

# India's bounding box (mainland and islands), WGS84.
LAT_RANGE = (Decimal("6.5"), Decimal("37.5"))
LON_RANGE = (Decimal("68.0"), Decimal("97.5"))

COTTON_TOWNS = [
    "Rajkot", "Ahmedabad", "Kadi", "Amreli", "Gondal", "Morbi", "Bhavnagar", "Surendranagar", "Akola",
    "Yavatmal", "Jalna", "Aurangabad", "Amravati", "Wardha", "Nagpur", "Jalgaon", "Adilabad", "Warangal",
    "Khammam", "Guntur", "Kurnool", "Adoni", "Bathinda", "Abohar", "Mansa", "Sirsa", "Hisar", "Fatehabad",
    "Sri Ganganagar", "Khandwa", "Khargone", "Indore", "Dhar", "Coimbatore", "Tiruppur", "Salem", "Raichur",
    "Hubballi", "Bellary", "Bhiwandi", "Mumbai", "Surat", "Erode", "Madurai", "Virudhunagar",
]  # fmt: skip

gazetteer = GazetteerGeocoder()


def test_all_36_states_and_union_territories_are_in_the_gazetteer():
    states = gazetteer_states()

    assert len(states) == 36
    assert {s.state_code for s in states} == set(STATES_BY_CODE)
    assert [s.name for s in states] == [s.name for s in STATES]
    assert sum(STATES_BY_CODE[s.state_code].is_union_territory for s in states) == 8


def test_at_least_40_towns_each_with_district_state_pincode_and_coordinates_in_india():
    towns = gazetteer_towns()

    assert len(towns) >= 40
    assert len({t.place_id for t in towns}) == len(towns)
    for town in towns:
        assert re.fullmatch(r"gaz:[a-z0-9-]+", town.place_id), town.place_id
        assert town.district, town.name
        assert town.state_code in STATES_BY_CODE, town.name
        assert re.fullmatch(r"[1-9]\d{5}", town.pincode), town.name
        assert LAT_RANGE[0] <= town.latitude <= LAT_RANGE[1], town.name
        assert LON_RANGE[0] <= town.longitude <= LON_RANGE[1], town.name


@pytest.mark.parametrize("town", COTTON_TOWNS)
def test_each_cotton_town_of_the_spec_is_found_by_its_name(town):
    suggestions = gazetteer.autocomplete(town, limit=3)

    assert suggestions, town
    assert suggestions[0].kind == "town"
    details = gazetteer.place_details(suggestions[0].place_id)
    assert town.lower() in [details.name.lower(), *[a.lower() for a in _aliases(details.place_id)]]


def _aliases(place_id):
    return next(t.aliases for t in gazetteer_towns() if t.place_id == place_id)


def test_rajkot_in_detail():
    details = gazetteer.place_details("gaz:rajkot")

    assert details.name == "Rajkot"
    assert (details.city, details.district, details.state, details.state_code) == ("Rajkot", "Rajkot", "Gujarat", "GJ")
    assert (details.pincode, details.country, details.timezone) == ("360001", "IN", "Asia/Kolkata")
    assert (details.latitude, details.longitude) == (Decimal("22.303900"), Decimal("70.802200"))
    assert details.address == "Rajkot, Gujarat 360001, India"
    assert details.source == "GAZETTEER"


def test_a_state_in_detail():
    details = gazetteer.place_details("gaz:state:mh")

    assert (details.name, details.state_code, details.city, details.pincode) == ("Maharashtra", "MH", "", "")


def test_an_unknown_place_id_is_not_found():
    with pytest.raises(PlaceNotFound) as excinfo:
        gazetteer.place_details("gaz:atlantis")

    assert (excinfo.value.code, excinfo.value.status) == ("place_not_found", 404)


def test_names_starting_with_the_query_come_first():
    suggestions = gazetteer.autocomplete("raj", limit=10)

    assert [s.main_text for s in suggestions] == ["Rajkot", "Rajasthan", "Gondal", "Hanumangarh", "Sri Ganganagar"]
    assert suggestions[0].description == "Rajkot, Gujarat"
    assert suggestions[2].description == "Gondal, Rajkot district, Gujarat"


def test_old_names_find_the_renamed_towns():
    assert gazetteer.autocomplete("aurangabad")[0].main_text == "Chhatrapati Sambhajinagar"
    assert gazetteer.autocomplete("Bellary")[0].main_text == "Ballari"
    assert gazetteer.autocomplete("hubli")[0].main_text == "Hubballi"


def test_a_state_name_finds_the_state_then_its_towns():
    suggestions = gazetteer.autocomplete("telangana", limit=10)

    assert [(s.kind, s.main_text) for s in suggestions] == [
        ("state", "Telangana"),
        ("town", "Adilabad"),
        ("town", "Khammam"),
        ("town", "Warangal"),
    ]
    assert suggestions[0].secondary_text == "State of India"


def test_every_word_must_match_and_the_limit_holds():
    assert [s.main_text for s in gazetteer.autocomplete("gondal rajkot")] == ["Gondal"]
    assert len(gazetteer.autocomplete("a", limit=5)) == 5
    assert gazetteer.autocomplete("  ") == []
    assert gazetteer.autocomplete("xyzzy") == []


def test_without_a_key_the_gazetteer_answers(settings):
    settings.GOOGLE_MAPS_API_KEY = ""

    assert isinstance(get_geocoder(), GazetteerGeocoder)


def test_with_a_key_google_answers_but_gazetteer_ids_stay_offline(settings):
    settings.GOOGLE_MAPS_API_KEY = "test-key"

    assert isinstance(get_geocoder(), GoogleMapsGeocoder)
    assert isinstance(geocoder_for_place_id("gaz:rajkot"), GazetteerGeocoder)
    assert isinstance(geocoder_for_place_id("ChIJ-abc"), GoogleMapsGeocoder)

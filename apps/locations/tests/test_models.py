"""SPEC section 4: a location's region and timezone follow its state; the database refuses what
the model would (check constraints), whoever writes."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.locations.models import Location, LocationSource, is_timezone
from apps.locations.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("state_code", "region", "state"),
    [
        ("GJ", "WEST", "Gujarat"),
        ("MH", "WEST", "Maharashtra"),
        ("RJ", "WEST", "Rajasthan"),
        ("TS", "SOUTH", "Telangana"),
        ("TN", "SOUTH", "Tamil Nadu"),
        ("PB", "NORTH", "Punjab"),
        ("HR", "NORTH", "Haryana"),
        ("MP", "CENTRAL", "Madhya Pradesh"),
        ("OD", "EAST", "Odisha"),
        ("AS", "NORTHEAST", "Assam"),
        ("ML", "NORTHEAST", "Meghalaya"),
        ("AN", "UNKNOWN", "Andaman and Nicobar Islands"),
    ],
)
def test_region_and_state_name_are_derived_from_the_state_code(state_code, region, state):
    location = LocationFactory(state_code=state_code.lower(), state="typed by hand", pincode="")

    location.refresh_from_db()
    assert (location.state_code, location.region, location.state) == (state_code, region, state)
    assert location.timezone == "Asia/Kolkata"


def test_an_indian_location_is_always_in_asia_kolkata():
    location = LocationFactory(timezone="Asia/Dubai")

    assert location.timezone == "Asia/Kolkata"


def test_a_foreign_location_keeps_its_timezone_and_has_no_region():
    location = LocationFactory(
        name="Memphis", country="us", state_code="TN", state="Tennessee", pincode="38103", timezone="America/Chicago"
    )

    location.refresh_from_db()
    assert (location.country, location.state_code, location.state) == ("US", "TN", "Tennessee")
    assert (location.region, location.timezone) == ("UNKNOWN", "America/Chicago")


def test_changing_the_state_code_with_update_fields_moves_the_region_too():
    location = LocationFactory(state_code="GJ")

    location.state_code = "TS"
    location.save(update_fields=["state_code"])

    location.refresh_from_db()
    assert (location.region, location.state) == ("SOUTH", "Telangana")


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Chicago", "UTC", "Australia/Sydney"])
def test_iana_zones_are_timezones(zone):
    assert is_timezone(zone)


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "posixrules", "../etc/passwd", "IST"])
def test_other_strings_are_not_timezones(zone):
    assert not is_timezone(zone)


def test_a_foreign_location_with_an_unknown_timezone_fails_validation():
    location = Location(
        name="Somewhere",
        country="US",
        state_code="TX",
        latitude=Decimal("30"),
        longitude=Decimal("-97"),
        timezone="Mars/Olympus",
    )

    with pytest.raises(ValidationError) as excinfo:
        location.full_clean()

    assert list(excinfo.value.message_dict) == ["timezone"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pincode": "36000"}, "pincode"),
        ({"pincode": "036000"}, "pincode"),
        ({"pincode": "36000A"}, "pincode"),
        ({"state_code": "ZZ"}, "state_code"),
        ({"state_code": ""}, "state_code"),
        ({"latitude": Decimal("90.000001")}, "latitude"),
        ({"longitude": Decimal("-180.5")}, "longitude"),
        ({"country": "IND"}, "country"),
    ],
)
def test_full_clean_names_the_wrong_field(changes, field):
    location = LocationFactory.build(**changes)

    with pytest.raises(ValidationError) as excinfo:
        location.full_clean()

    assert field in excinfo.value.message_dict


@pytest.mark.parametrize(
    "changes",
    [
        {"pincode": "36000"},
        {"pincode": "012345"},
        {"state_code": "ZZ"},
        {"state_code": ""},
        {"latitude": Decimal("90.5")},
        {"latitude": Decimal("-91")},
        {"longitude": Decimal("180.1")},
        {"country": "I1"},
        {"name": ""},
        {"source": "TELEPATHY"},
    ],
)
def test_the_database_refuses_invalid_rows(changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(**changes)

    assert Location.objects.count() == 0


def test_the_database_refuses_a_region_that_does_not_follow_the_state():
    location = LocationFactory(state_code="GJ")

    with pytest.raises(IntegrityError), transaction.atomic():
        Location.objects.filter(pk=location.pk).update(region="NORTH")

    location.refresh_from_db()
    assert location.region == "WEST"


def test_the_database_refuses_another_timezone_for_india():
    location = LocationFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Location.objects.filter(pk=location.pk).update(timezone="Asia/Dubai")


def test_a_place_id_is_unique_when_present():
    LocationFactory(place_id="gaz:rajkot")
    LocationFactory(place_id=None)
    LocationFactory(place_id=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(place_id="gaz:rajkot")

    assert Location.objects.count() == 3


def test_a_blank_place_id_is_stored_as_null():
    location = LocationFactory(place_id="  ")

    assert Location.objects.get(pk=location.pk).place_id is None


def test_coordinates_are_kept_to_six_decimal_places():
    location = LocationFactory(latitude=22.30394567, longitude=Decimal("70.8022004"))

    location.refresh_from_db()
    assert (location.latitude, location.longitude) == (Decimal("22.303946"), Decimal("70.802200"))


def test_str_names_the_district_and_state():
    assert str(LocationFactory.build(name="Gondal", district="Rajkot", state_code="GJ")) == "Gondal (Rajkot, GJ)"
    assert str(LocationFactory.build(name="Rajkot", district="Rajkot", state_code="GJ")) == "Rajkot (GJ)"
    assert LocationFactory.build().source == LocationSource.MANUAL

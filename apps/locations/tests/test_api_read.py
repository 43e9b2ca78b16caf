"""SPEC section 4 and 13: every signed-in user reads the active locations, filtered by search,
state and region (validated), cursor-paginated by name, in a constant number of queries."""

import uuid

import pytest

from apps.locations.models import Location
from apps.locations.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/locations/"
SUGGEST = "/api/v1/locations/suggest/"


@pytest.fixture
def towns():
    rows = [
        ("Rajkot", "Rajkot", "GJ", "360001"),
        ("Gondal", "Rajkot", "GJ", "360311"),
        ("Akola", "Akola", "MH", "444001"),
        ("Warangal", "Warangal", "TS", "506002"),
        ("Guntur", "Guntur", "AP", "522001"),
        ("Bathinda", "Bathinda", "PB", "151001"),
        ("Indore", "Indore", "MP", "452001"),
    ]
    created = {name: LocationFactory(name=name, district=d, state_code=s, pincode=p) for name, d, s, p in rows}
    created["Closed Yard"] = LocationFactory(name="Closed Yard", district="Rajkot", state_code="GJ", is_active=False)
    return created


def names(response):
    return [row["name"] for row in response.json()["results"]]


def test_anonymous_callers_are_refused(api_client, towns):
    response = api_client.get(LIST)

    assert response.status_code == 401


def test_any_signed_in_user_lists_the_active_locations_by_name(authenticate, partner_user, towns):
    response = authenticate(partner_user).get(LIST)

    assert response.status_code == 200
    assert names(response) == ["Akola", "Bathinda", "Gondal", "Guntur", "Indore", "Rajkot", "Warangal"]
    rajkot = response.json()["results"][-2]
    assert rajkot == {
        "id": str(towns["Rajkot"].id),
        "name": "Rajkot",
        "place_id": None,
        "address": "",
        "city": "Rajkot",
        "district": "Rajkot",
        "state": "Gujarat",
        "state_code": "GJ",
        "pincode": "360001",
        "country": "IN",
        "latitude": "22.303900",
        "longitude": "70.802200",
        "region": "WEST",
        "timezone": "Asia/Kolkata",
        "source": "MANUAL",
        "is_active": True,
        "created_at": rajkot["created_at"],
        "updated_at": rajkot["updated_at"],
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "rajkot"}, ["Gondal", "Rajkot"]),  # the name or the district
        ({"search": "gon raj"}, ["Gondal"]),  # every word
        ({"search": "4440"}, ["Akola"]),  # a pincode's start
        ({"search": "telangana"}, ["Warangal"]),  # the state's name
        ({"search": ""}, ["Akola", "Bathinda", "Gondal", "Guntur", "Indore", "Rajkot", "Warangal"]),
        ({"state": "GJ"}, ["Gondal", "Rajkot"]),
        ({"state": "mh"}, ["Akola"]),
        ({"region": "SOUTH"}, ["Guntur", "Warangal"]),
        ({"region": "central"}, ["Indore"]),
        ({"region": "NORTH", "search": "bat"}, ["Bathinda"]),
        ({"region": "EAST"}, []),
        ({"state": "GJ", "search": "closed"}, []),  # deactivated locations are not listed
    ],
)
def test_filters_give_exactly_the_matching_locations(authenticate, partner_user, towns, params, expected):
    response = authenticate(partner_user).get(LIST, params)

    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"region": "MIDWEST"}, "region"),
        ({"state": "ZZ"}, "state"),
        ({"state": "GUJ"}, "state"),
        ({"state": "G"}, "state"),
        ({"page_size": "ten"}, "page_size"),
    ],
)
def test_invalid_filters_are_refused_with_the_field_named(authenticate, partner_user, towns, params, attr):
    response = authenticate(partner_user).get(LIST, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [e["attr"] for e in body["errors"]] == [attr]


def test_pages_follow_each_other_without_gaps_or_repeats(authenticate, partner_user):
    for i in range(7):
        LocationFactory(name=f"Yard {i}")
    LocationFactory(name="Yard 3")  # a duplicate name: the cursor still moves on
    client = authenticate(partner_user)

    seen, url = [], f"{LIST}?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    expected = list(Location.objects.order_by("name", "id").values_list("id", flat=True))
    assert seen == [str(i) for i in expected]
    assert len(seen) == 8


def test_the_list_costs_the_same_queries_whatever_the_page_size(authenticate, partner_user, django_assert_num_queries):
    for i in range(30):
        LocationFactory(name=f"Yard {i:02d}")
    client = authenticate(partner_user)

    with django_assert_num_queries(2):  # the user (token), the page
        small = client.get(LIST, {"page_size": 1})
    with django_assert_num_queries(2):
        large = client.get(LIST, {"page_size": 25, "search": "yard", "region": "WEST"})

    assert (len(small.json()["results"]), len(large.json()["results"])) == (1, 25)


def test_a_location_is_read_by_id_even_when_deactivated(authenticate, partner_user, towns):
    response = authenticate(partner_user).get(f"{LIST}{towns['Closed Yard'].id}/")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["is_active"]) == ("Closed Yard", False)


def test_an_unknown_id_is_404(authenticate, partner_user):
    response = authenticate(partner_user).get(f"{LIST}{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json()["code"] == "location_not_found"


def test_suggestions_come_from_the_gazetteer_and_point_at_existing_locations(authenticate, partner_user, settings):
    settings.GOOGLE_MAPS_API_KEY = ""
    rajkot = LocationFactory(name="Rajkot", place_id="gaz:rajkot")

    response = authenticate(partner_user).get(SUGGEST, {"q": "raj", "limit": 2})

    assert response.status_code == 200
    assert response.json() == {
        "source": "GAZETTEER",
        "results": [
            {
                "place_id": "gaz:rajkot",
                "description": "Rajkot, Gujarat",
                "main_text": "Rajkot",
                "secondary_text": "Gujarat",
                "kind": "town",
                "location_id": str(rajkot.id),
            },
            {
                "place_id": "gaz:state:rj",
                "description": "Rajasthan, State of India",
                "main_text": "Rajasthan",
                "secondary_text": "State of India",
                "kind": "state",
                "location_id": None,
            },
        ],
    }


@pytest.mark.parametrize(("params", "attr"), [({"q": "r"}, "q"), ({}, "q"), ({"q": "raj", "limit": 50}, "limit")])
def test_suggest_validates_its_parameters(authenticate, partner_user, params, attr):
    response = authenticate(partner_user).get(SUGGEST, params)

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == [attr]


def test_suggest_needs_a_signed_in_user(api_client):
    assert api_client.get(SUGGEST, {"q": "raj"}).status_code == 401

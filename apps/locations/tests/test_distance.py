"""SPEC section 4: distance is haversine in km (mean Earth radius 6371.0088 km)."""

from decimal import Decimal

from apps.locations.distance import EARTH_RADIUS_KM, distance_km, haversine_km
from apps.locations.geocoding.gazetteer import GazetteerGeocoder
from apps.locations.models import Location


def _town(place_id):
    details = GazetteerGeocoder().place_details(place_id)
    return details.latitude, details.longitude


def test_the_radius_is_the_iugg_mean():
    assert EARTH_RADIUS_KM == 6371.0088


def test_the_same_point_is_zero_km_away():
    assert haversine_km(22.3039, 70.8022, 22.3039, 70.8022) == Decimal("0.000")


def test_one_degree_of_longitude_on_the_equator_is_two_pi_r_over_360():
    assert haversine_km(0, 0, 0, 1) == Decimal("111.195")


def test_half_the_world_around_is_pi_r():
    assert haversine_km(0, 0, 0, 180) == Decimal("20015.114")


def test_rajkot_to_ahmedabad_is_about_200_km():
    distance = haversine_km(*_town("gaz:rajkot"), *_town("gaz:ahmedabad"))

    assert abs(distance - 200) <= 2


def test_mumbai_to_delhi_is_about_1148_km():
    assert abs(haversine_km(19.0760, 72.8777, 28.6139, 77.2090) - 1148) <= 3


def test_coimbatore_to_tiruppur_is_about_43_km_and_symmetric():
    there = haversine_km(*_town("gaz:coimbatore"), *_town("gaz:tiruppur"))
    back = haversine_km(*_town("gaz:tiruppur"), *_town("gaz:coimbatore"))

    assert there == back
    assert abs(there - 43) <= 2


def test_distance_between_two_locations_uses_their_coordinates():
    rajkot = Location(latitude=Decimal("22.303900"), longitude=Decimal("70.802200"))
    gondal = Location(latitude=Decimal("21.961200"), longitude=Decimal("70.793900"))

    assert distance_km(rajkot, gondal) == haversine_km(22.3039, 70.8022, 21.9612, 70.7939)
    assert distance_km(rajkot, gondal).as_tuple().exponent == -3

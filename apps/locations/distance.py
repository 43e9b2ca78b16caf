"""Great-circle distance (SPEC section 4: haversine, in km)."""

from __future__ import annotations

import math
from decimal import Decimal

from apps.locations.models import Location

# The mean Earth radius (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088
_KM_PLACES = Decimal("0.001")

Coordinate = Decimal | float | int


def haversine_km(lat1: Coordinate, lon1: Coordinate, lat2: Coordinate, lon2: Coordinate) -> Decimal:
    """The haversine distance between two points in km, to the metre."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lon2) - float(lon1))
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
    return Decimal(repr(km)).quantize(_KM_PLACES)


def distance_km(a: Location, b: Location) -> Decimal:
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)

"""Geocoding adapter (SPEC section 4): the offline gazetteer by default, Google Maps when
GOOGLE_MAPS_API_KEY is set. Gazetteer place ids (`gaz:...`) are always answered offline."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from apps.locations.geocoding.base import Geocoder, PlaceDetails, Suggestion
from apps.locations.geocoding.gazetteer import PREFIX as GAZETTEER_PREFIX
from apps.locations.geocoding.gazetteer import GazetteerGeocoder


@lru_cache(maxsize=4)
def _google(api_key: str, base_url: str, timeout: float) -> Geocoder:
    from apps.locations.geocoding.google import GoogleMapsGeocoder

    return GoogleMapsGeocoder(api_key=api_key, base_url=base_url, timeout=timeout)


def get_geocoder() -> Geocoder:
    """The configured geocoder: Google Maps with a key, else the offline gazetteer."""
    if settings.GOOGLE_MAPS_API_KEY:
        return _google(
            settings.GOOGLE_MAPS_API_KEY, settings.GOOGLE_MAPS_BASE_URL, settings.GOOGLE_MAPS_TIMEOUT_SECONDS
        )
    return GazetteerGeocoder()


def geocoder_for_place_id(place_id: str) -> Geocoder:
    """The geocoder that issued a place id: the gazetteer for `gaz:` ids, else the configured one."""
    if place_id.strip().lower().startswith(GAZETTEER_PREFIX):
        return GazetteerGeocoder()
    return get_geocoder()


__all__ = ["Geocoder", "PlaceDetails", "Suggestion", "geocoder_for_place_id", "get_geocoder"]

"""Reads of locations: a global master every signed-in user may read."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.locations.errors import LocationNotFound
from apps.locations.models import Location


@dataclass(frozen=True)
class LocationFilters:
    search: str = ""  # words each found in the name, city, district, state or pincode
    state_code: str = ""
    region: str = ""


def locations_active(*, filters: LocationFilters | None = None) -> QuerySet[Location]:
    """Active locations matching the filters (unordered: the paginator orders)."""
    filters = filters or LocationFilters()
    queryset = Location.objects.filter(is_active=True)
    if filters.state_code:
        queryset = queryset.filter(state_code=filters.state_code)
    if filters.region:
        queryset = queryset.filter(region=filters.region)
    for word in filters.search.split():
        queryset = queryset.filter(
            Q(name__icontains=word)
            | Q(city__icontains=word)
            | Q(district__icontains=word)
            | Q(state__icontains=word)
            | Q(pincode__startswith=word)
        )
    return queryset


def location_get(*, location_id: UUID) -> Location:
    """Any location by id, active or not (records that refer to a deactivated one still show it)."""
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise LocationNotFound()
    return location


def location_ids_by_place_id(place_ids: list[str]) -> dict[str, UUID]:
    """The ids of the locations created from these place ids, in one query."""
    if not place_ids:
        return {}
    rows = Location.objects.filter(place_id__in=place_ids).values_list("place_id", "id")
    return {place_id: location_id for place_id, location_id in rows if place_id is not None}

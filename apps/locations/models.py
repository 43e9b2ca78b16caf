"""Locations: the global master of places (SPEC section 4). No organization: shared by every tenant.

Region and, for India, the state's name and timezone are derived from the state code on every
save (`Location.apply_derived_fields`); check constraints keep the stored values honest even for
writes that bypass Python (bulk updates, SQL).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.core.audit import tracked
from apps.core.india import INDIA_TIMEZONE, STATES_BY_CODE, Region, region_for_state
from apps.core.models import BaseModel

INDIA = "IN"
INDIAN_PINCODE_REGEX = r"^[1-9][0-9]{5}$"
COUNTRY_REGEX = r"^[A-Z]{2}$"
FOREIGN_STATE_CODE_REGEX = r"^([A-Z0-9]{2})?$"
COORDINATE_PLACES = Decimal("0.000001")


class LocationSource(models.TextChoices):
    GAZETTEER = "GAZETTEER", "Gazetteer (offline)"
    GOOGLE = "GOOGLE", "Google Maps"
    MANUAL = "MANUAL", "Entered by hand"


class RegionChoices(models.TextChoices):
    WEST = Region.WEST.value, "West"
    SOUTH = Region.SOUTH.value, "South"
    NORTH = Region.NORTH.value, "North"
    CENTRAL = Region.CENTRAL.value, "Central"
    EAST = Region.EAST.value, "East"
    NORTHEAST = Region.NORTHEAST.value, "Northeast"
    UNKNOWN = Region.UNKNOWN.value, "Unknown"


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(value: str) -> bool:
    """An IANA zone name zoneinfo knows. ZoneInfo alone also opens files such as "posixrules"."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return value in _zone_names()


def validate_timezone(value: str) -> None:
    if not is_timezone(value):
        raise ValidationError(f"{value!r} is not an IANA timezone (e.g. Asia/Kolkata).", code="invalid_timezone")


def _region_matches_state() -> Q:
    """region = region_for_state(state_code) for India, UNKNOWN elsewhere, as one SQL condition."""
    codes_by_region: dict[Region, list[str]] = {}
    for code in sorted(STATES_BY_CODE):
        codes_by_region.setdefault(region_for_state(code), []).append(code)
    condition = Q(~Q(country=INDIA), region=Region.UNKNOWN.value)
    for region, codes in codes_by_region.items():
        condition |= Q(country=INDIA, region=region.value, state_code__in=codes)
    return condition


# Audit history (apps.core.audit): a snapshot on insert and on every change of a field.
@tracked()
class Location(BaseModel):
    """A place where goods are, are wanted or are delivered: a town, a state, a street address."""

    name = models.CharField(max_length=200)
    # The geocoder's id (`gaz:rajkot`, a Google place id); null for places entered by hand.
    place_id = models.CharField(max_length=300, null=True, blank=True)
    address = models.CharField(max_length=500, blank=True)
    city = models.CharField(max_length=100, blank=True)
    district = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True, help_text="For India, derived from the state code.")
    state_code = models.CharField(max_length=2, blank=True, help_text="Two letters: GJ, MH, TS ...")
    pincode = models.CharField(max_length=10, blank=True, help_text="Six digits in India.")
    country = models.CharField(max_length=2, default=INDIA, help_text="ISO 3166-1 alpha-2.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    region = models.CharField(max_length=16, choices=RegionChoices.choices, default=RegionChoices.UNKNOWN)
    timezone = models.CharField(max_length=64, default=INDIA_TIMEZONE, validators=[validate_timezone])
    source = models.CharField(max_length=16, choices=LocationSource.choices, default=LocationSource.MANUAL)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["place_id"],
                condition=Q(place_id__isnull=False),
                name="location_place_id_unique",
                violation_error_message="A location with this place id exists already.",
            ),
            models.CheckConstraint(condition=~Q(place_id=""), name="location_place_id_not_blank"),
            models.CheckConstraint(condition=~Q(name=""), name="location_name_not_blank"),
            models.CheckConstraint(condition=Q(country__regex=COUNTRY_REGEX), name="location_country_iso2"),
            models.CheckConstraint(
                condition=Q(~Q(country=INDIA), state_code__regex=FOREIGN_STATE_CODE_REGEX)
                | Q(country=INDIA, state_code__in=sorted(STATES_BY_CODE)),
                name="location_state_code_known",
                violation_error_message="For India the state code must be a known two-letter code.",
            ),
            models.CheckConstraint(
                condition=~Q(country=INDIA) | Q(pincode="") | Q(pincode__regex=INDIAN_PINCODE_REGEX),
                name="location_pincode_india",
                violation_error_message="An Indian pincode is six digits and does not start with 0.",
            ),
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="location_latitude_range"),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="location_longitude_range"
            ),
            models.CheckConstraint(
                condition=~Q(country=INDIA) | Q(timezone=INDIA_TIMEZONE), name="location_india_timezone"
            ),
            models.CheckConstraint(condition=~Q(timezone=""), name="location_timezone_not_blank"),
            models.CheckConstraint(condition=_region_matches_state(), name="location_region_matches_state"),
            models.CheckConstraint(condition=Q(source__in=LocationSource.values), name="location_source_valid"),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="location_name_idx"),
            models.Index(fields=["state_code"], name="location_state_code_idx"),
            models.Index(fields=["region"], name="location_region_idx"),
        ]

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.district, self.state_code) if part and part != self.name)
        return f"{self.name} ({where})" if where else self.name

    def apply_derived_fields(self) -> None:
        """Normalise codes and derive region, and for India the state name and timezone."""
        self.country = (self.country or "").strip().upper()
        self.state_code = (self.state_code or "").strip().upper()
        self.pincode = (self.pincode or "").strip().replace(" ", "")
        if self.place_id is not None and not self.place_id.strip():
            self.place_id = None
        if self.country == INDIA:
            self.region = region_for_state(self.state_code).value
            self.timezone = INDIA_TIMEZONE
            state = STATES_BY_CODE.get(self.state_code)
            if state is not None:
                self.state = state.name
        else:
            self.region = Region.UNKNOWN.value
        for attr in ("latitude", "longitude"):
            value = getattr(self, attr)
            if value is not None and not isinstance(value, Decimal):
                value = Decimal(str(value))
            if value is not None and value.is_finite():
                setattr(self, attr, value.quantize(COORDINATE_PLACES))

    def clean(self) -> None:
        """Field-level messages for the rules the check constraints enforce."""
        self.apply_derived_fields()
        errors: dict[str, str] = {}
        if self.country == INDIA:
            if not self.state_code:
                errors["state_code"] = "A state code (GJ, MH ...) is required for India."
            elif self.state_code not in STATES_BY_CODE:
                errors["state_code"] = f"{self.state_code!r} is not an Indian state or union territory code."
            if self.pincode and not _matches(INDIAN_PINCODE_REGEX, self.pincode):
                errors["pincode"] = "An Indian pincode is six digits and does not start with 0."
        elif self.state_code and not _matches(FOREIGN_STATE_CODE_REGEX, self.state_code):
            errors["state_code"] = "A state code is two letters or digits."
        if not _matches(COUNTRY_REGEX, self.country):
            errors["country"] = "A country is two letters (ISO 3166-1), e.g. IN."
        if self.latitude is not None and not Decimal(-90) <= self.latitude <= Decimal(90):
            errors["latitude"] = "Latitude is between -90 and 90."
        if self.longitude is not None and not Decimal(-180) <= self.longitude <= Decimal(180):
            errors["longitude"] = "Longitude is between -180 and 180."
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.apply_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"state_code", "country"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "region", "state", "timezone"}
        super().save(*args, **kwargs)


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None

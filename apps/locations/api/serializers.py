"""Input and output shapes of the locations API. Plain serializers with names unique in the schema."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers

from apps.core.india import STATES_BY_CODE, Region
from apps.locations.models import COORDINATE_PLACES, LocationSource, RegionChoices


class CoordinateField(serializers.DecimalField):
    """Decimal(9, 6) that rounds extra decimal places (GPS and maps give 7-15) instead of refusing them."""

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        super().__init__(max_digits=9, decimal_places=6, min_value=Decimal(-limit), max_value=Decimal(limit), **kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        try:
            rounded = value.quantize(COORDINATE_PLACES, rounding=ROUND_HALF_EVEN)
        except InvalidOperation:  # too many digits to hold 6 places (10**40): no coordinate, not a 500
            self.fail("max_digits", max_digits=self.max_digits)
        return super().validate_precision(rounded)


class LocationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    place_id = serializers.CharField(allow_null=True)
    address = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    state = serializers.CharField()
    state_code = serializers.CharField()
    pincode = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    region = serializers.ChoiceField(choices=RegionChoices.choices)
    timezone = serializers.CharField()
    source = serializers.ChoiceField(choices=LocationSource.choices)  # type: ignore[assignment]
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LocationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LocationOutput(many=True)


class LocationSuggestionOutput(serializers.Serializer):
    place_id = serializers.CharField(help_text="Send it to POST /api/v1/locations/ to create the location.")
    description = serializers.CharField()
    main_text = serializers.CharField()
    secondary_text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["town", "state", "place"])
    location_id = serializers.UUIDField(
        allow_null=True, help_text="The existing location made from this place, if there is one."
    )


class LocationSuggestionsOutput(serializers.Serializer):
    source = serializers.ChoiceField(choices=LocationSource.choices, help_text="The geocoder that answered.")  # type: ignore[assignment]
    results = LocationSuggestionOutput(many=True)


class StateCodeField(serializers.CharField):
    """A known Indian state or union territory code, any case (`gj` -> `GJ`)."""

    default_error_messages = {"unknown_state": "{value!r} is not an Indian state or union territory code."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=2, max_length=2, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data)).upper()
        if value not in STATES_BY_CODE:
            self.fail("unknown_state", value=value)
        return value


class RegionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[r.value for r in Region], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(str(data).upper() if isinstance(data, str) else data))

"""Refusals of the locations app."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from apps.core.errors import Conflict, DomainError, NotFound, ServiceUnavailable


class InvalidLocation(DomainError):
    """The model's validation (fields, cross-field rules, constraints) refused the values."""

    code = "validation_failed"
    default_detail = "The location has invalid fields; see errors."

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> InvalidLocation:
        errors: list[dict[str, Any]] = []
        by_field = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
        for attr, field_errors in by_field.items():
            for error in field_errors:
                errors.append(
                    {
                        "attr": None if attr == NON_FIELD_ERRORS else attr,
                        "code": error.code or "invalid",
                        "detail": " ".join(error.messages),
                    }
                )
        return cls(errors=errors)


class LocationNotFound(NotFound):
    code = "location_not_found"
    default_detail = "No location has this id."


class LocationInUse(Conflict):
    """Deactivation refused: active records still refer to the location. `references` counts them per referrer."""

    code = "location_in_use"
    default_detail = "The location is still in use."

    def __init__(self, references: dict[str, int]) -> None:
        listed = ", ".join(f"{count} active {name}" for name, count in sorted(references.items()))
        super().__init__(
            f"The location is still in use ({listed}); deactivate or move those first.",
            errors=[
                {"attr": None, "code": self.code, "detail": f"{name}: {count} active"}
                for name, count in sorted(references.items())
            ],
            extra={"references": dict(sorted(references.items()))},
        )
        self.references = dict(references)


class LocationInactive(Conflict):
    code = "location_inactive"
    default_detail = "The location is deactivated; choose an active one."


class DeactivateThroughEndpoint(DomainError):
    code = "use_deactivate"
    default_detail = "Deactivate a location with POST /api/v1/locations/{id}/deactivate."


class PlaceNotFound(DomainError):
    code = "place_not_found"
    status = 404
    default_detail = "The geocoder knows no place with this id."


class GeocodingUnavailable(ServiceUnavailable):
    code = "geocoding_unavailable"
    default_detail = "The geocoding service is unavailable; try again shortly."

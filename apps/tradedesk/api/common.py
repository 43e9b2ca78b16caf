"""What the trade-desk API modules share: the tag and paging parameters, the acting user, the
number fields of postings, JSON numbers as Decimals, and reading a validated body."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from rest_framework import serializers
from rest_framework.request import Request

from apps.accounts.requests import request_user

# Re-exported: the paging parts live once in core.
from apps.core.api.common import PAGE_PARAMETERS as PAGE_PARAMETERS
from apps.core.api.common import PageOutput as PageOutput
from apps.core.api.common import checked_data, validated_data
from apps.core.errors import FieldError, ValidationFailed
from apps.partners.selectors import partner_id_of
from apps.tradedesk.errors import PostingInvalid

TAG = "tradedesk"


# The request's user, typed: the one helper (accounts.requests), under the short name the views use.
user = request_user


def validated(serializer_class: type[serializers.Serializer], request: Request, **options: Any) -> dict[str, Any]:
    """The request body checked by `serializer_class` (400 with the field errors otherwise)."""
    return validated_data(serializer_class, request.data, **options)


def checked(
    serializer_class: type[serializers.Serializer], request: Request, **options: Any
) -> tuple[dict[str, Any], list[FieldError]]:
    """The body's fields that pass `serializer_class` and the errors of those that do not, for a
    service that checks its rules on the rest and answers every error at once."""
    return checked_data(serializer_class, request.data, **options)


def posting_partner_id(
    request: Request,
    values: dict[str, Any],
    *,
    error: type[PostingInvalid],
    noun: str,
    prior_errors: list[FieldError] | None = None,
) -> UUID:
    """The partner a new posting is for: `partner_id` from the body (taken out of `values`), or
    else the partner user's own; staff must give it (refused with `prior_errors`, if any)."""
    partner_id = values.pop("partner_id", None) or partner_id_of(user(request))
    if partner_id is None:
        missing = error("partner_id", "required", f"partner_id is required: whose {noun} is this?")
        if prior_errors:
            raise ValidationFailed(errors=[*prior_errors, *missing.errors])
        raise missing
    return partner_id


# --- fields ---------------------------------------------------------------------------------------


def kg_field(**options: Any) -> serializers.DecimalField:
    """A quantity (in kg, or as entered in its unit): 3 decimals."""
    return serializers.DecimalField(max_digits=16, decimal_places=3, **options)


def factor_field(**options: Any) -> serializers.DecimalField:
    """A unit's kg per unit, as used: 8 decimals."""
    return serializers.DecimalField(max_digits=20, decimal_places=8, **options)


def price_field(**options: Any) -> serializers.DecimalField:
    """A price per its price unit: 2 decimals."""
    return serializers.DecimalField(max_digits=16, decimal_places=2, **options)


def per_kg_field(**options: Any) -> serializers.DecimalField:
    """A price per kg: 4 decimals."""
    return serializers.DecimalField(max_digits=14, decimal_places=4, **options)


def optional_text(max_length: int) -> serializers.CharField:
    """A note or reason that may be left out or blank (then "")."""
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, default="")


def invited_partner_ids_input() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="RESTRICTED only: partners of your organization."
    )


class PrimaryKeys(serializers.ListField):
    """The ids of a (prefetched) to-many relation."""

    def to_representation(self, data: Any) -> list[str]:
        return [str(obj.pk) for obj in data.all()]


def decimals_from_json(value: Any) -> Any:
    """JSON numbers arrive as floats, but quality values and spec bounds are decimals (the
    services refuse floats): a float becomes the Decimal of its shortest repr, which is the
    number the client wrote (3.8 -> Decimal("3.8")), in nested objects and lists too."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: decimals_from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decimals_from_json(item) for item in value]
    return value


class DecimalJSONField(serializers.JSONField):
    """A JSON object whose numbers are read as Decimals (see `decimals_from_json`)."""

    def to_internal_value(self, data: Any) -> Any:
        return decimals_from_json(super().to_internal_value(data))

"""CSV/Excel import and export of locations (django-import-export), used by the admin.

Rows are matched by `id` when given, else by `place_id`, else created. Each row is validated by
the model (the same rules as the API: field checks, cross-field rules, constraints) and saved
through the services, so every row emits its event and a dry run reports bad rows without
writing anything (the whole import runs in a transaction that a dry run rolls back).
`id`, `region` and `is_active` are exported but never imported: the region follows the state
code (as does the state name in India), and (de)activation goes through its own checks.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources, widgets

from apps.core.errors import DomainError
from apps.locations.models import COORDINATE_PLACES, Location, LocationSource
from apps.locations.services.locations import CREATE_FIELDS, UPDATABLE_FIELDS, location_create, location_update


class CoordinateWidget(widgets.DecimalWidget):
    """Rounds to 6 decimal places (spreadsheets and maps give more)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:
        cleaned = super().clean(value, row, **kwargs)
        return cleaned.quantize(COORDINATE_PLACES) if cleaned is not None else None


class TextWidget(widgets.CharWidget):
    """Blank cells are empty strings, numbers keep no `.0` (pincodes typed in Excel)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "" if value is None else str(value).strip()


class LocationResource(resources.ModelResource):
    id = fields.Field(attribute="id", column_name="id", readonly=True)
    place_id = fields.Field(attribute="place_id", column_name="place_id", widget=widgets.CharWidget(allow_blank=False))
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    address = fields.Field(attribute="address", column_name="address", widget=TextWidget())
    city = fields.Field(attribute="city", column_name="city", widget=TextWidget())
    district = fields.Field(attribute="district", column_name="district", widget=TextWidget())
    state = fields.Field(attribute="state", column_name="state", widget=TextWidget())
    state_code = fields.Field(attribute="state_code", column_name="state_code", widget=TextWidget())
    pincode = fields.Field(attribute="pincode", column_name="pincode", widget=TextWidget())
    country = fields.Field(attribute="country", column_name="country", widget=TextWidget())
    latitude = fields.Field(attribute="latitude", column_name="latitude", widget=CoordinateWidget())
    longitude = fields.Field(attribute="longitude", column_name="longitude", widget=CoordinateWidget())
    region = fields.Field(attribute="region", column_name="region", readonly=True)
    timezone = fields.Field(attribute="timezone", column_name="timezone", widget=TextWidget())
    source = fields.Field(attribute="source", column_name="source", widget=TextWidget())
    is_active = fields.Field(
        attribute="is_active", column_name="is_active", readonly=True, widget=widgets.BooleanWidget()
    )

    class Meta:
        model = Location
        fields = (
            "id", "name", "place_id", "address", "city", "district", "state", "state_code", "pincode",
            "country", "latitude", "longitude", "region", "timezone", "source", "is_active",
        )  # fmt: skip
        export_order = fields
        import_id_fields: tuple[str, ...] = ()
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> Any:
        return Location.objects.order_by("name", "id")

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Location | None:
        raw_id = str(row.get("id") or "").strip()
        if raw_id:
            try:
                location_id = uuid.UUID(raw_id)
            except ValueError:
                raise ValidationError({"id": f"{raw_id!r} is not a location id."}) from None
            location = Location.objects.filter(pk=location_id).first()
            if location is None:
                raise ValidationError({"id": "No location has this id; leave it empty to create one."})
            return location
        place_id = str(row.get("place_id") or "").strip()
        if place_id:
            return Location.objects.filter(place_id=place_id).first()
        return None

    def import_instance(self, instance: Location, row: dict[str, Any], **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        if not instance.source:
            instance.source = LocationSource.MANUAL
        instance.apply_derived_fields()

    def save_instance(self, instance: Location, is_create: bool, row: dict[str, Any], **kwargs: Any) -> None:
        """Through the services (validation, event); a dry run writes and is rolled back."""
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            return
        actor = kwargs.get("user")
        try:
            if is_create:
                created = location_create(actor=actor, **{f: getattr(instance, f) for f in CREATE_FIELDS})
                instance.pk, instance.created_at, instance.updated_at = (
                    created.pk,
                    created.created_at,
                    created.updated_at,
                )
            else:
                changes = {f: getattr(instance, f) for f in UPDATABLE_FIELDS - {"is_active"}}
                location_update(location_id=instance.pk, actor=actor, **changes)
        except DomainError as exc:
            # A refusal of the service (validation, permission) is this row's error, shown in the preview.
            by_field: dict[str, list[str]] = {}
            for error in exc.errors or [{"attr": None, "detail": exc.detail}]:
                by_field.setdefault(error.get("attr") or NON_FIELD_ERRORS, []).append(error["detail"])
            raise ValidationError(by_field) from exc

"""Exports of the trade desk's postings (django-import-export, export only: postings change
through services, never by import). Quantities and prices as entered, beside kg and per kg."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources

from apps.tradedesk.models import Availability, Requirement


class AvailabilityResource(resources.ModelResource):
    partner_code = fields.Field(attribute="partner__code", column_name="partner")
    commodity_code = fields.Field(attribute="commodity__code", column_name="commodity")
    variety_name = fields.Field(attribute="variety__name", column_name="variety")
    quantity_unit_code = fields.Field(attribute="quantity_unit__code", column_name="quantity unit")
    price_unit_code = fields.Field(attribute="price_unit__code", column_name="price unit")
    status_label = fields.Field(column_name="status")

    class Meta:
        model = Availability
        fields = (
            "number",
            "partner_code",
            "commodity_code",
            "variety_name",
            "status_label",
            "quantity",
            "quantity_unit_code",
            "total_kg",
            "available_kg",
            "reserved_kg",
            "sold_kg",
            "price",
            "price_unit_code",
            "price_per_kg",
            "state_code",
            "submitted_at",
            "expires_at",
        )
        export_order = fields

    def dehydrate_status_label(self, obj: Any) -> str:
        return str(obj.get_status_display())


class RequirementResource(resources.ModelResource):
    partner_code = fields.Field(attribute="partner__code", column_name="partner")
    commodity_code = fields.Field(attribute="commodity__code", column_name="commodity")
    variety_name = fields.Field(attribute="variety__name", column_name="variety")
    quantity_unit_code = fields.Field(attribute="quantity_unit__code", column_name="quantity unit")
    price_unit_code = fields.Field(attribute="price_unit__code", column_name="price unit")
    status_label = fields.Field(column_name="status")

    class Meta:
        model = Requirement
        fields = (
            "number",
            "partner_code",
            "commodity_code",
            "variety_name",
            "status_label",
            "min_quantity",
            "max_quantity",
            "quantity_unit_code",
            "min_kg",
            "max_kg",
            "fulfilled_kg",
            "max_price",
            "price_unit_code",
            "max_price_per_kg",
            "state_code",
            "valid_until",
        )
        export_order = fields

    def dehydrate_status_label(self, obj: Any) -> str:
        return str(obj.get_status_display())

"""CSV/Excel import and export of commodities and trade terms (django-import-export).

Rows are matched by their natural key (commodity code; term kind + code) and written through
the services, so an import is validated like any other change, emits its events and leaves
audit rows. The admin first runs a dry run (in a transaction that is rolled back) and shows
every bad row; nothing is written unless the whole file is clean and the user confirms.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from apps.commodities.models import Commodity, TradeTerm, Unit
from apps.commodities.services.commodities import COMMODITY_UPDATABLE, commodity_create, commodity_update
from apps.commodities.services.terms import TERM_UPDATABLE, term_create, term_update
from apps.core.errors import DomainError


def _as_validation_error(error: DomainError) -> ValidationError:
    """A service refusal as the row's validation error (shown per field in the preview)."""
    by_field: dict[str, list[str]] = {}
    for item in error.errors:
        attr = str(item.get("attr") or "__all__").split(".")[-1]
        by_field.setdefault(attr, []).append(str(item["detail"]))
    return ValidationError(by_field or {"__all__": [error.detail]})


class ServiceResource(resources.ModelResource):
    """Saves each row through a service (`create` / `update` below) with the importing user."""

    def create(self, instance: Any, actor: Any) -> Any:
        raise NotImplementedError

    def update(self, instance: Any, actor: Any) -> Any:
        raise NotImplementedError

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        self.before_save_instance(instance, row, **kwargs)
        actor = kwargs.get("user")
        try:
            saved = self.create(instance, actor) if is_create else self.update(instance, actor)
        except DomainError as error:
            raise _as_validation_error(error) from None
        instance.pk, instance.created_at, instance.updated_at = saved.pk, saved.created_at, saved.updated_at
        self.after_save_instance(instance, row, **kwargs)


class UnitCodeWidget(ForeignKeyWidget):
    """A unit by its code; an unknown code is the row's field error (not a crash of the row)."""

    def __init__(self) -> None:
        super().__init__(Unit, field="code")

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(str(value).strip().upper() if value else value, row=row, **kwargs)
        except Unit.DoesNotExist:
            raise ValueError(f"No unit has the code {value!r}.") from None


def _unit_field(name: str) -> fields.Field:
    return fields.Field(attribute=name, column_name=name, widget=UnitCodeWidget())


class CommodityResource(ServiceResource):
    base_unit = _unit_field("base_unit")
    trade_unit = _unit_field("trade_unit")
    rate_unit = _unit_field("rate_unit")

    class Meta:
        model = Commodity
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "category",
            "hsn_code",
            "gst_rate",
            "base_unit",
            "trade_unit",
            "rate_unit",
            "description",
            "is_active",
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def create(self, instance: Commodity, actor: Any) -> Commodity:
        return commodity_create(
            actor=actor,
            code=instance.code,
            name=instance.name,
            category=instance.category,
            hsn_code=instance.hsn_code,
            gst_rate=instance.gst_rate,
            base_unit=instance.base_unit,
            trade_unit=instance.trade_unit,
            rate_unit=instance.rate_unit,
            description=instance.description,
            is_active=instance.is_active,
        )

    def update(self, instance: Commodity, actor: Any) -> Commodity:
        changes = {name: getattr(instance, name) for name in COMMODITY_UPDATABLE}
        return commodity_update(actor=actor, commodity_id=instance.pk, **changes)


class TradeTermResource(ServiceResource):
    class Meta:
        model = TradeTerm
        import_id_fields = ("kind", "code")
        fields = (
            "kind",
            "code",
            "name",
            "description",
            "is_active",
            "shortage_allowance_kg_per_100_bales",
            "advance_percent",
            "payment_days",
            "carry_charge_percent_per_annum",
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def create(self, instance: TradeTerm, actor: Any) -> TradeTerm:
        typed = {name: getattr(instance, name) for name in TERM_UPDATABLE if name != "is_active"}
        return term_create(actor=actor, kind=instance.kind, code=instance.code, is_active=instance.is_active, **typed)

    def update(self, instance: TradeTerm, actor: Any) -> TradeTerm:
        changes = {name: getattr(instance, name) for name in TERM_UPDATABLE}
        return term_update(actor=actor, term_id=instance.pk, kind=instance.kind, **changes)

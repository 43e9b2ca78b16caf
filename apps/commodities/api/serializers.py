"""Output shapes of the commodities API. Plain serializers with names unique in the schema.

Decimals are strings: model values without trailing zeros (`355.62`, `170`), computed values
at their quantum (`17000.000` kg, `168.72` per kg).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.commodities.models import (
    AdjustmentKind,
    CommissionBasis,
    CommissionParty,
    CommodityCategory,
    TermKind,
)

DECIMAL_SCHEMA = {"type": "string", "format": "decimal", "example": "355.62"}
QUALITY_VALUE_SCHEMA = {"oneOf": [{"type": "string"}, {"type": "number"}], "example": "28.2"}


@extend_schema_field(DECIMAL_SCHEMA)
class DecimalText(serializers.Field):
    """A stored Decimal as an exact string without trailing zeros; null stays null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        text = f"{value.normalize():f}"
        return "0" if text in {"-0", ""} else text


@extend_schema_field(QUALITY_VALUE_SCHEMA)
class QualityValueField(serializers.Field):
    """A quality value as sent: a string (preferred: exact) or a JSON number. A JSON number is
    read by its shortest decimal spelling (4.85 -> Decimal('4.85')), never as a binary float."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            raise serializers.ValidationError("A number or a text value is required.", code="invalid")
        if isinstance(data, float):
            return Decimal(repr(data))
        return data

    def to_representation(self, value: Any) -> Any:
        return f"{value.normalize():f}" if isinstance(value, Decimal) else value


class UnitOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    factor_to_kg = DecimalText(help_text="Kilograms in one unit, exact.")
    description = serializers.CharField()
    is_active = serializers.BooleanField()


class VarietyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    commodity_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class QualityParameterOutput(serializers.Serializer):
    id = serializers.UUIDField()
    commodity_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    # A plain string here: the enum is named once, on the create input (enum components named
    # `kind` would otherwise collide between parameters, rules and terms).
    kind = serializers.CharField(help_text="NUMERIC or GRADE.")
    unit = serializers.CharField()
    min_value = DecimalText(allow_null=True)
    max_value = DecimalText(allow_null=True)
    allowed_values = serializers.ListField(child=serializers.CharField())
    decimals = serializers.IntegerField(help_text="Reporting precision that schedules read values at.")
    is_mandatory = serializers.BooleanField()
    order = serializers.IntegerField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()


class CommodityOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=CommodityCategory.choices)
    hsn_code = serializers.CharField()
    gst_rate = DecimalText(help_text="Percent.")
    base_unit = serializers.CharField(source="base_unit.code")
    trade_unit = serializers.CharField(source="trade_unit.code")
    rate_unit = serializers.CharField(source="rate_unit.code")
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    varieties = VarietyOutput(many=True, source="varieties.all")
    parameters = QualityParameterOutput(many=True, source="parameters.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ScheduleRuleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    parameter = serializers.CharField(source="parameter.code")
    kind = serializers.CharField(help_text="BAND, RATIO, REJECT_BELOW or REJECT_ABOVE.")
    lower = DecimalText(allow_null=True)
    upper = DecimalText(allow_null=True)
    basis = DecimalText(allow_null=True)
    adjustment_kind = serializers.CharField(help_text="PERCENT, ABSOLUTE, or empty for reject edges.")
    value = DecimalText(allow_null=True)
    step = DecimalText(allow_null=True)
    note = serializers.CharField()
    description = serializers.CharField(source="describe", help_text="The rule in words, e.g. `28-28.4: -3%`.")


class QualityScheduleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    commodity_id = serializers.UUIDField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    basis_description = serializers.CharField()
    effective_from = serializers.DateField()
    is_active = serializers.BooleanField()
    activated_at = serializers.DateTimeField(allow_null=True)
    is_frozen = serializers.BooleanField(help_text="Activated at least once: the version never changes again.")
    rules = ScheduleRuleOutput(many=True, source="rules.all")
    created_at = serializers.DateTimeField()


class AdjustmentLineOutput(serializers.Serializer):
    parameter = serializers.CharField()
    value = DecimalText(help_text="The value as compared: rounded to the parameter's reporting precision.")
    rule = serializers.CharField()
    adjustment_kind = serializers.ChoiceField(choices=AdjustmentKind.choices)
    rate = DecimalText(help_text="Percent of the basis price (PERCENT) or amount per rate unit (ABSOLUTE).")
    amount = serializers.CharField(help_text="Per rate unit, in paise precision.")
    rule_id = serializers.UUIDField(allow_null=True)


class RejectReasonOutput(serializers.Serializer):
    parameter = serializers.CharField()
    value = DecimalText()
    rule = serializers.CharField()


class PriceAdjustmentOutput(serializers.Serializer):
    schedule_id = serializers.UUIDField()
    schedule_version = serializers.IntegerField()
    basis_price = serializers.CharField()
    adjusted_price = serializers.CharField(allow_null=True, help_text="Null when the lot is rejected.")
    total_adjustment = serializers.CharField()
    rejected = serializers.BooleanField()
    reject_reasons = RejectReasonOutput(many=True)
    lines = AdjustmentLineOutput(many=True)
    not_covered = serializers.ListField(
        child=serializers.CharField(), help_text="Parameters whose value no rule covers (no adjustment)."
    )


class ConversionOutput(serializers.Serializer):
    commodity = serializers.CharField(help_text="The commodity's code.")
    quantity = serializers.CharField(help_text="As entered.")
    unit = serializers.CharField()
    quantities = serializers.DictField(
        child=serializers.CharField(), help_text="By unit code: base (KG), trade and rate units and the entered one."
    )
    quantity_kg = serializers.CharField()
    price = serializers.CharField(allow_null=True)
    price_unit = serializers.CharField(allow_null=True)
    prices = serializers.DictField(child=serializers.CharField(), help_text="Price per each unit, by unit code.")
    price_per_kg = serializers.CharField(allow_null=True)
    amount = serializers.CharField(allow_null=True, help_text="Quantity in kg x price per kg, rounded once to paise.")
    factors = serializers.DictField(child=DecimalText(), help_text="The kg factor of each unit used.")


class TradeTermOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=TermKind.choices)
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    shortage_allowance_kg_per_100_bales = DecimalText(allow_null=True, help_text="WEIGHTMENT terms only.")
    advance_percent = DecimalText(allow_null=True, help_text="PAYMENT terms only.")
    payment_days = serializers.IntegerField(allow_null=True, help_text="PAYMENT terms only.")
    carry_charge_percent_per_annum = DecimalText(allow_null=True, help_text="PAYMENT terms only.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CommissionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    commodity_id = serializers.UUIDField()
    trade_type = serializers.CharField(source="trade_type.code")
    name = serializers.CharField()
    basis = serializers.ChoiceField(choices=CommissionBasis.choices)
    rate = DecimalText()
    unit = serializers.CharField(source="unit.code", allow_null=True, default=None)
    applies_to = serializers.ChoiceField(choices=CommissionParty.choices)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def page_of(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A cursor page of `item` rows, named `name` in the schema."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
            "__module__": __name__,
        },
    )


UnitPageOutput = page_of("UnitPageOutput", UnitOutput)
CommodityPageOutput = page_of("CommodityPageOutput", CommodityOutput)
VarietyPageOutput = page_of("VarietyPageOutput", VarietyOutput)
QualityParameterPageOutput = page_of("QualityParameterPageOutput", QualityParameterOutput)
QualitySchedulePageOutput = page_of("QualitySchedulePageOutput", QualityScheduleOutput)
TradeTermPageOutput = page_of("TradeTermPageOutput", TradeTermOutput)
CommissionPageOutput = page_of("CommissionPageOutput", CommissionOutput)

"""Event types of the commodities app and their payloads. Global masters: organization is None."""

from __future__ import annotations

from typing import Any

from apps.commodities.models import (
    CommissionStructure,
    Commodity,
    QualityParameter,
    QualitySchedule,
    TradeTerm,
    Unit,
    Variety,
)

UNIT_CREATED = "commodities.unit.created"
UNIT_UPDATED = "commodities.unit.updated"
COMMODITY_CREATED = "commodities.commodity.created"
COMMODITY_UPDATED = "commodities.commodity.updated"
VARIETY_CREATED = "commodities.variety.created"
VARIETY_UPDATED = "commodities.variety.updated"
PARAMETER_CHANGED = "commodities.parameter.changed"
SCHEDULE_CREATED = "commodities.schedule.created"
SCHEDULE_UPDATED = "commodities.schedule.updated"
SCHEDULE_ACTIVATED = "commodities.schedule.activated"
TERMS_CREATED = "commodities.terms.created"
TERMS_UPDATED = "commodities.terms.updated"
COMMISSION_CREATED = "commodities.commission.created"
COMMISSION_UPDATED = "commodities.commission.updated"


def _text(value: Any) -> Any:
    """JSON-safe: Decimals as exact strings, model instances by their code or id."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, Unit):
        return value.code
    if hasattr(value, "pk") and hasattr(value, "_meta"):
        return str(value.pk)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def changed_payload(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [_text(before[key]), _text(after[key])] for key in after}


def unit_payload(unit: Unit) -> dict[str, Any]:
    return {"code": unit.code, "factor_to_kg": _text(unit.factor_to_kg), "is_active": unit.is_active}


def commodity_payload(commodity: Commodity) -> dict[str, Any]:
    return {
        "code": commodity.code,
        "name": commodity.name,
        "category": commodity.category,
        "hsn_code": commodity.hsn_code,
        "gst_rate": _text(commodity.gst_rate),
        "is_active": commodity.is_active,
    }


def variety_payload(variety: Variety) -> dict[str, Any]:
    return {
        "commodity_id": str(variety.commodity_id),
        "code": variety.code,
        "name": variety.name,
        "is_active": variety.is_active,
    }


def parameter_payload(parameter: QualityParameter, *, change: str) -> dict[str, Any]:
    return {
        "commodity_id": str(parameter.commodity_id),
        "code": parameter.code,
        "kind": parameter.kind,
        "is_mandatory": parameter.is_mandatory,
        "is_active": parameter.is_active,
        "change": change,
    }


def schedule_payload(schedule: QualitySchedule) -> dict[str, Any]:
    return {
        "commodity_id": str(schedule.commodity_id),
        "version": schedule.version,
        "name": schedule.name,
        "effective_from": schedule.effective_from.isoformat(),
        "is_active": schedule.is_active,
    }


def term_payload(term: TradeTerm) -> dict[str, Any]:
    return {"kind": term.kind, "code": term.code, "name": term.name, "is_active": term.is_active}


def commission_payload(commission: CommissionStructure) -> dict[str, Any]:
    return {
        "commodity_id": str(commission.commodity_id),
        "trade_type_id": str(commission.trade_type_id),
        "basis": commission.basis,
        "rate": _text(commission.rate),
        "unit": commission.unit.code if commission.unit_id and commission.unit else None,
        "applies_to": commission.applies_to,
        "is_active": commission.is_active,
    }

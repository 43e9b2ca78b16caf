"""What the master-data services share: model validation as field errors, applying a change set,
and finding units and commodities by what the callers give."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models

from apps.commodities.errors import UnknownUnit, from_validation_error
from apps.commodities.models import Commodity, Unit
from apps.core.errors import NotFound

UNIT_FIELDS = ("base_unit", "trade_unit", "rate_unit", "unit")


def full_clean(instance: models.Model, *, prefix: str = "", exclude: Sequence[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=prefix) from None


def unit_by_code(code: str | Unit | None, field: str) -> Unit | None:
    if code is None or isinstance(code, Unit):
        return code
    unit = Unit.objects.filter(code=code.strip().upper(), is_active=True).first()
    if unit is None:
        raise UnknownUnit.for_field(field, f"No active unit has the code {code!r}.", code="unknown_unit")
    return unit


def resolve_units(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: unit_by_code(v, k) if k in UNIT_FIELDS else v for k, v in changes.items()}


def apply_changes(instance: models.Model, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the fields that differ; (before, after) of those."""
    changed = {k: v for k, v in changes.items() if getattr(instance, k) != v}
    before = {k: getattr(instance, k) for k in changed}
    for key, value in changed.items():
        setattr(instance, key, value)
    return before, changed


def update_fields(changed: dict[str, Any]) -> list[str]:
    return [*changed, "updated_at"]


def commodity_or_404(commodity_id: UUID) -> Commodity:
    commodity = Commodity.objects.filter(pk=commodity_id).first()
    if commodity is None:
        raise NotFound(f"No commodity with id {commodity_id}.")
    return commodity

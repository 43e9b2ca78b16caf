"""Use cases of commodities: add one, change its profile, units or active flag."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.locks import lock_row
from apps.commodities.models import (
    Commodity,
    Unit,
)
from apps.commodities.permissions import ADD, CHANGE, ensure_can
from apps.commodities.services.common import (
    apply_changes,
    full_clean,
    resolve_units,
    unit_by_code,
    update_fields,
)
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit

COMMODITY_UPDATABLE = frozenset(
    {"name", "category", "hsn_code", "gst_rate", "base_unit", "trade_unit", "rate_unit", "description", "is_active"}
)


def commodity_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    category: str,
    hsn_code: str,
    gst_rate: Decimal,
    trade_unit: str | Unit,
    rate_unit: str | Unit,
    base_unit: str | Unit = "KG",
    description: str = "",
    is_active: bool = True,
) -> Commodity:
    ensure_can(actor, ADD, "commodity")
    with transaction.atomic():
        commodity = Commodity(
            code=code.strip().upper(),
            name=name,
            category=category,
            hsn_code=hsn_code,
            gst_rate=gst_rate,
            base_unit=unit_by_code(base_unit, "base_unit"),
            trade_unit=unit_by_code(trade_unit, "trade_unit"),
            rate_unit=unit_by_code(rate_unit, "rate_unit"),
            description=description,
            is_active=is_active,
        )
        full_clean(commodity)
        commodity.save()
        emit(events.COMMODITY_CREATED, aggregate=commodity, actor=actor, payload=events.commodity_payload(commodity))
    return commodity


def commodity_update(
    *,
    actor: User | None,
    commodity_id: UUID,
    name: str | Unset = UNSET,
    category: str | Unset = UNSET,
    hsn_code: str | Unset = UNSET,
    gst_rate: Decimal | Unset = UNSET,
    base_unit: str | Unit | Unset = UNSET,
    trade_unit: str | Unit | Unset = UNSET,
    rate_unit: str | Unit | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Commodity:
    """Change a commodity's profile, units or active flag (its code never changes)."""
    ensure_can(actor, CHANGE, "commodity")
    changes = given(
        name=name,
        category=category,
        hsn_code=hsn_code,
        gst_rate=gst_rate,
        base_unit=base_unit,
        trade_unit=trade_unit,
        rate_unit=rate_unit,
        description=description,
        is_active=is_active,
    )
    with transaction.atomic():
        commodity = lock_row(Commodity.objects.all(), commodity_id, "commodity")
        before, changed = apply_changes(commodity, resolve_units(changes))
        if not changed:
            return commodity
        full_clean(commodity)
        commodity.save(update_fields=update_fields(changed))
        payload = {**events.commodity_payload(commodity), "changed": events.changed_payload(before, changed)}
        emit(events.COMMODITY_UPDATED, aggregate=commodity, actor=actor, payload=payload)
    return commodity

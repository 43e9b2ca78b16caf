"""Use cases of units of measure: add one, change it."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.locks import lock_row
from apps.commodities.models import (
    Unit,
)
from apps.commodities.permissions import ADD, CHANGE, ensure_can
from apps.commodities.services.common import (
    apply_changes,
    full_clean,
    update_fields,
)
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit

UNIT_UPDATABLE = frozenset({"name", "factor_to_kg", "description", "is_active"})


def unit_create(
    *, actor: User | None, code: str, name: str, factor_to_kg: Decimal, description: str = "", is_active: bool = True
) -> Unit:
    ensure_can(actor, ADD, "unit")
    with transaction.atomic():
        unit = Unit(
            code=code.strip().upper(),
            name=name,
            factor_to_kg=factor_to_kg,
            description=description,
            is_active=is_active,
        )
        full_clean(unit)
        unit.save()
        emit(events.UNIT_CREATED, aggregate=unit, actor=actor, payload=events.unit_payload(unit))
    return unit


def unit_update(
    *,
    actor: User | None,
    unit_id: UUID,
    name: str | Unset = UNSET,
    factor_to_kg: Decimal | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Unit:
    """Change a unit. A new factor applies to conversions from now on; trades keep theirs."""
    ensure_can(actor, CHANGE, "unit")
    changes = given(name=name, factor_to_kg=factor_to_kg, description=description, is_active=is_active)
    with transaction.atomic():
        unit = lock_row(Unit.objects.all(), unit_id, "unit")
        before, changed = apply_changes(unit, changes)
        if not changed:
            return unit
        full_clean(unit)
        unit.save(update_fields=update_fields(changed))
        payload = {**events.unit_payload(unit), "changed": events.changed_payload(before, changed)}
        emit(events.UNIT_UPDATED, aggregate=unit, actor=actor, payload=payload)
    return unit

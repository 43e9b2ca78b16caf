"""Use cases of a commodity's varieties: add one, change it."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.locks import lock_row
from apps.commodities.models import (
    Variety,
)
from apps.commodities.permissions import ADD, CHANGE, ensure_can
from apps.commodities.services.common import (
    apply_changes,
    commodity_or_404,
    full_clean,
    update_fields,
)
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit

VARIETY_UPDATABLE = frozenset({"name", "description", "is_active"})


def variety_create(
    *, actor: User | None, commodity_id: UUID, code: str, name: str, description: str = "", is_active: bool = True
) -> Variety:
    ensure_can(actor, ADD, "variety")
    with transaction.atomic():
        commodity = commodity_or_404(commodity_id)
        variety = Variety(
            commodity=commodity, code=code.strip().upper(), name=name, description=description, is_active=is_active
        )
        full_clean(variety)
        variety.save()
        emit(events.VARIETY_CREATED, aggregate=variety, actor=actor, payload=events.variety_payload(variety))
    return variety


def variety_update(
    *,
    actor: User | None,
    commodity_id: UUID,
    variety_id: UUID,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Variety:
    ensure_can(actor, CHANGE, "variety")
    changes = given(name=name, description=description, is_active=is_active)
    with transaction.atomic():
        variety = lock_row(Variety.objects.filter(commodity_id=commodity_id), variety_id, "variety")
        before, changed = apply_changes(variety, changes)
        if not changed:
            return variety
        full_clean(variety)
        variety.save(update_fields=update_fields(changed))
        payload = {**events.variety_payload(variety), "changed": events.changed_payload(before, changed)}
        emit(events.VARIETY_UPDATED, aggregate=variety, actor=actor, payload=payload)
    return variety

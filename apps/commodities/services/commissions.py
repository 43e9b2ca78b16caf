"""Use cases of commission structures: add one, change it (no two active ones charge the same party)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.errors import (
    CommissionOverlap,
    UnknownTradeType,
)
from apps.commodities.locks import lock_commodity, lock_row
from apps.commodities.models import (
    CommissionParty,
    CommissionStructure,
    TermKind,
    TradeTerm,
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

COMMISSION_UPDATABLE = frozenset({"name", "basis", "rate", "unit", "applies_to", "is_active"})


def _trade_type(code: str | TradeTerm) -> TradeTerm:
    if isinstance(code, TradeTerm):
        return code
    term = TradeTerm.objects.filter(kind=TermKind.TRADE_TYPE, code=code.strip().upper()).first()
    if term is None:
        raise UnknownTradeType.for_field("trade_type", f"No trade type has the code {code!r}.", code="unknown")
    return term


def _parties(applies_to: str) -> set[str]:
    return {CommissionParty.BUYER, CommissionParty.SELLER} if applies_to == CommissionParty.BOTH else {applies_to}


def _refuse_overlap(commission: CommissionStructure) -> None:
    if not commission.is_active:
        return
    others = CommissionStructure.objects.filter(
        commodity_id=commission.commodity_id, trade_type_id=commission.trade_type_id, is_active=True
    ).exclude(pk=commission.pk)
    for other in others:
        if _parties(other.applies_to) & _parties(commission.applies_to):
            raise CommissionOverlap(
                f"The active structure {other} already charges the {other.get_applies_to_display().lower()} "
                "for this commodity and trade type; deactivate it first."
            )


def commission_create(
    *,
    actor: User | None,
    commodity_id: UUID,
    trade_type: str | TradeTerm,
    basis: str,
    rate: Decimal,
    applies_to: str,
    unit: str | Unit | None = None,
    name: str = "",
    is_active: bool = True,
) -> CommissionStructure:
    """Add a commission structure. Refuses one whose parties overlap an active structure of the
    same commodity and trade type (409); locks the commodity row to decide that safely."""
    ensure_can(actor, ADD, "commissionstructure")
    with transaction.atomic():
        commodity = lock_commodity(commodity_id)
        commission = CommissionStructure(
            commodity=commodity,
            trade_type=_trade_type(trade_type),
            name=name,
            basis=basis,
            rate=rate,
            unit=unit_by_code(unit, "unit"),
            applies_to=applies_to,
            is_active=is_active,
        )
        _refuse_overlap(commission)
        full_clean(commission)
        commission.save()
        emit(
            events.COMMISSION_CREATED,
            aggregate=commission,
            actor=actor,
            payload=events.commission_payload(commission),
        )
    return commission


def commission_update(
    *,
    actor: User | None,
    commodity_id: UUID,
    commission_id: UUID,
    name: str | Unset = UNSET,
    basis: str | Unset = UNSET,
    rate: Decimal | Unset = UNSET,
    unit: str | Unit | Unset | None = UNSET,
    applies_to: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> CommissionStructure:
    ensure_can(actor, CHANGE, "commissionstructure")
    changes = given(name=name, basis=basis, rate=rate, unit=unit, applies_to=applies_to, is_active=is_active)
    with transaction.atomic():
        lock_commodity(commodity_id)
        commission = lock_row(
            CommissionStructure.objects.filter(commodity_id=commodity_id), commission_id, "commission structure"
        )
        before, changed = apply_changes(commission, resolve_units(changes))
        if not changed:
            return commission
        _refuse_overlap(commission)
        full_clean(commission)
        commission.save(update_fields=update_fields(changed))
        payload = {**events.commission_payload(commission), "changed": events.changed_payload(before, changed)}
        emit(events.COMMISSION_UPDATED, aggregate=commission, actor=actor, payload=payload)
    return commission

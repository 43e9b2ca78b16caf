"""Use cases of trade terms (trade types, delivery, payment, passing terms): add one, change it."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.locks import lock_row
from apps.commodities.models import (
    TradeTerm,
)
from apps.commodities.permissions import ADD, CHANGE, ensure_can
from apps.commodities.services.common import (
    apply_changes,
    full_clean,
    update_fields,
)
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit

TERM_UPDATABLE = frozenset(
    {"name", "description", "is_active", "shortage_allowance_kg_per_100_bales", "advance_percent", "payment_days"}
    | {"carry_charge_percent_per_annum"}
)


def term_create(
    *,
    actor: User | None,
    kind: str,
    code: str,
    name: str,
    description: str = "",
    is_active: bool = True,
    shortage_allowance_kg_per_100_bales: Decimal | None = None,
    advance_percent: Decimal | None = None,
    payment_days: int | None = None,
    carry_charge_percent_per_annum: Decimal | None = None,
) -> TradeTerm:
    ensure_can(actor, ADD, "tradeterm")
    with transaction.atomic():
        term = TradeTerm(
            kind=kind,
            code=code.strip().upper(),
            name=name,
            description=description,
            is_active=is_active,
            shortage_allowance_kg_per_100_bales=shortage_allowance_kg_per_100_bales,
            advance_percent=advance_percent,
            payment_days=payment_days,
            carry_charge_percent_per_annum=carry_charge_percent_per_annum,
        )
        full_clean(term)
        term.save()
        emit(events.TERMS_CREATED, aggregate=term, actor=actor, payload=events.term_payload(term))
    return term


def term_update(
    *,
    actor: User | None,
    term_id: UUID,
    kind: str | None = None,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    shortage_allowance_kg_per_100_bales: Decimal | Unset | None = UNSET,
    advance_percent: Decimal | Unset | None = UNSET,
    payment_days: int | Unset | None = UNSET,
    carry_charge_percent_per_annum: Decimal | Unset | None = UNSET,
) -> TradeTerm:
    """Change a term (deactivate with is_active=False). Its kind and code never change.
    With `kind`, a term of another kind is not found."""
    ensure_can(actor, CHANGE, "tradeterm")
    changes = given(
        name=name,
        description=description,
        is_active=is_active,
        shortage_allowance_kg_per_100_bales=shortage_allowance_kg_per_100_bales,
        advance_percent=advance_percent,
        payment_days=payment_days,
        carry_charge_percent_per_annum=carry_charge_percent_per_annum,
    )
    with transaction.atomic():
        queryset = TradeTerm.objects.filter(kind=kind) if kind else TradeTerm.objects.all()
        term = lock_row(queryset, term_id, "term")
        before, changed = apply_changes(term, changes)
        if not changed:
            return term
        full_clean(term)
        term.save(update_fields=update_fields(changed))
        payload = {**events.term_payload(term), "changed": events.changed_payload(before, changed)}
        emit(events.TERMS_UPDATED, aggregate=term, actor=actor, payload=payload)
    return term

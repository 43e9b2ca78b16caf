"""Use cases of a commodity's quality parameters: add one, change it."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.errors import (
    ParameterImmutable,
)
from apps.commodities.locks import lock_row
from apps.commodities.models import (
    QualityParameter,
    ScheduleRule,
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

PARAMETER_UPDATABLE = frozenset(
    {"name", "unit", "min_value", "max_value", "allowed_values", "decimals", "is_mandatory", "order", "description"}
    | {"is_active"}
)


def parameter_create(
    *,
    actor: User | None,
    commodity_id: UUID,
    code: str,
    name: str,
    kind: str,
    unit: str = "",
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    allowed_values: list[str] | None = None,
    decimals: int = 2,
    is_mandatory: bool = False,
    order: int = 0,
    description: str = "",
    is_active: bool = True,
) -> QualityParameter:
    """Add a typed quality parameter. Emits commodities.parameter.changed (change=created)."""
    ensure_can(actor, ADD, "qualityparameter")
    with transaction.atomic():
        commodity = commodity_or_404(commodity_id)
        parameter = QualityParameter(
            commodity=commodity,
            code=code.strip(),
            name=name,
            kind=kind,
            unit=unit,
            min_value=min_value,
            max_value=max_value,
            allowed_values=list(allowed_values or []),
            decimals=decimals,
            is_mandatory=is_mandatory,
            order=order,
            description=description,
            is_active=is_active,
        )
        full_clean(parameter)
        parameter.save()
        emit(
            events.PARAMETER_CHANGED,
            aggregate=parameter,
            actor=actor,
            payload=events.parameter_payload(parameter, change="created"),
        )
    return parameter


def parameter_update(
    *,
    actor: User | None,
    commodity_id: UUID,
    parameter_id: UUID,
    name: str | Unset = UNSET,
    unit: str | Unset = UNSET,
    min_value: Decimal | Unset | None = UNSET,
    max_value: Decimal | Unset | None = UNSET,
    allowed_values: list[str] | Unset = UNSET,
    decimals: int | Unset = UNSET,
    is_mandatory: bool | Unset = UNSET,
    order: int | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    code: str | Unset = UNSET,
    kind: str | Unset = UNSET,
) -> QualityParameter:
    """Change a parameter. Refuses its `code` and `kind` (stable), and its reporting precision
    once an activated schedule reads it (that would change frozen prices)."""
    ensure_can(actor, CHANGE, "qualityparameter")
    changes = given(
        name=name,
        unit=unit,
        min_value=min_value,
        max_value=max_value,
        allowed_values=allowed_values,
        decimals=decimals,
        is_mandatory=is_mandatory,
        order=order,
        description=description,
        is_active=is_active,
        code=code,
        kind=kind,
    )
    immutable = {"code", "kind"} & set(changes)
    if immutable:
        raise ParameterImmutable(f"A parameter's {' and '.join(sorted(immutable))} never change once created.")
    with transaction.atomic():
        parameter = lock_row(QualityParameter.objects.filter(commodity_id=commodity_id), parameter_id, "parameter")
        before, changed = apply_changes(parameter, changes)
        if not changed:
            return parameter
        if (
            "decimals" in changed
            and ScheduleRule.objects.filter(parameter=parameter, schedule__activated_at__isnull=False).exists()
        ):
            raise ParameterImmutable(
                "An activated schedule reads this parameter at its reporting precision; create a new parameter "
                "or leave the precision as it is."
            )
        full_clean(parameter)
        parameter.save(update_fields=update_fields(changed))
        payload = {
            **events.parameter_payload(parameter, change="updated"),
            "changed": events.changed_payload(before, changed),
        }
        emit(events.PARAMETER_CHANGED, aggregate=parameter, actor=actor, payload=payload)
    return parameter

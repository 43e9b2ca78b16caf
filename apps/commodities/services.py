"""Use cases of the global masters. Every write checks the actor's capability first (the model
permission; `actor=None` is the system), runs in its own transaction, validates with
`full_clean()` (field errors as a 400 DomainError, duplicates as 409) and emits its event in the
same transaction. Updates lock the row they change; an update that changes nothing writes and
emits nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from apps.commodities import events
from apps.commodities.errors import (
    CommissionOverlap,
    ParameterImmutable,
    ScheduleFrozen,
    ScheduleInvalid,
    UnknownTradeType,
    UnknownUnit,
    from_validation_error,
)
from apps.commodities.models import (
    CommissionParty,
    CommissionStructure,
    Commodity,
    QualityParameter,
    QualitySchedule,
    ScheduleRule,
    TermKind,
    TradeTerm,
    Unit,
    Variety,
)
from apps.commodities.permissions import ADD, CHANGE, ensure_can
from apps.commodities.schedules import rule_set_errors
from apps.core.errors import NotFound
from apps.events.emit import emit

M = TypeVar("M", bound=models.Model)

UNIT_UPDATABLE = frozenset({"name", "factor_to_kg", "description", "is_active"})
COMMODITY_UPDATABLE = frozenset(
    {"name", "category", "hsn_code", "gst_rate", "base_unit", "trade_unit", "rate_unit", "description", "is_active"}
)
VARIETY_UPDATABLE = frozenset({"name", "description", "is_active"})
PARAMETER_UPDATABLE = frozenset(
    {"name", "unit", "min_value", "max_value", "allowed_values", "decimals", "is_mandatory", "order", "description"}
    | {"is_active"}
)
SCHEDULE_UPDATABLE = frozenset({"name", "basis_description", "effective_from"})
TERM_UPDATABLE = frozenset(
    {"name", "description", "is_active", "shortage_allowance_kg_per_100_bales", "advance_percent", "payment_days"}
    | {"carry_charge_percent_per_annum"}
)
COMMISSION_UPDATABLE = frozenset({"name", "basis", "rate", "unit", "applies_to", "is_active"})
UNIT_FIELDS = ("base_unit", "trade_unit", "rate_unit", "unit")


# --- helpers ----------------------------------------------------------------------------------


def _clean(instance: models.Model, *, prefix: str = "", exclude: Sequence[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=prefix) from None


def _lock(queryset: models.QuerySet[M], pk: UUID, what: str) -> M:
    found = queryset.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {what} with id {pk}.")
    return found


def _unit(code: str | Unit | None, field: str) -> Unit | None:
    if code is None or isinstance(code, Unit):
        return code
    unit = Unit.objects.filter(code=code.strip().upper(), is_active=True).first()
    if unit is None:
        raise UnknownUnit.for_field(field, f"No active unit has the code {code!r}.", code="unknown_unit")
    return unit


def _resolve_units(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: _unit(v, k) if k in UNIT_FIELDS else v for k, v in changes.items()}


def _apply(
    instance: models.Model, changes: dict[str, Any], updatable: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the fields that differ; (before, after) of those."""
    unknown = set(changes) - updatable
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    changed = {k: v for k, v in changes.items() if getattr(instance, k) != v}
    before = {k: getattr(instance, k) for k in changed}
    for key, value in changed.items():
        setattr(instance, key, value)
    return before, changed


def _update_fields(changed: dict[str, Any]) -> list[str]:
    return [*changed, "updated_at"]


# --- units ------------------------------------------------------------------------------------


def unit_create(
    *, actor: Any, code: str, name: str, factor_to_kg: Decimal, description: str = "", is_active: bool = True
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
        _clean(unit)
        unit.save()
        emit(events.UNIT_CREATED, aggregate=unit, actor=actor, payload=events.unit_payload(unit))
    return unit


def unit_update(*, actor: Any, unit_id: UUID, **changes: Any) -> Unit:
    """Change a unit. A new factor applies to conversions from now on; trades keep theirs."""
    ensure_can(actor, CHANGE, "unit")
    with transaction.atomic():
        unit = _lock(Unit.objects.all(), unit_id, "unit")
        before, changed = _apply(unit, changes, UNIT_UPDATABLE)
        if not changed:
            return unit
        _clean(unit)
        unit.save(update_fields=_update_fields(changed))
        payload = {**events.unit_payload(unit), "changed": events.changed_payload(before, changed)}
        emit(events.UNIT_UPDATED, aggregate=unit, actor=actor, payload=payload)
    return unit


# --- commodities ------------------------------------------------------------------------------


def commodity_create(
    *,
    actor: Any,
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
            base_unit=_unit(base_unit, "base_unit"),
            trade_unit=_unit(trade_unit, "trade_unit"),
            rate_unit=_unit(rate_unit, "rate_unit"),
            description=description,
            is_active=is_active,
        )
        _clean(commodity)
        commodity.save()
        emit(events.COMMODITY_CREATED, aggregate=commodity, actor=actor, payload=events.commodity_payload(commodity))
    return commodity


def commodity_update(*, actor: Any, commodity_id: UUID, **changes: Any) -> Commodity:
    """Change a commodity's profile, units or active flag (its code never changes)."""
    ensure_can(actor, CHANGE, "commodity")
    with transaction.atomic():
        commodity = _lock(Commodity.objects.all(), commodity_id, "commodity")
        before, changed = _apply(commodity, _resolve_units(changes), COMMODITY_UPDATABLE)
        if not changed:
            return commodity
        _clean(commodity)
        commodity.save(update_fields=_update_fields(changed))
        payload = {**events.commodity_payload(commodity), "changed": events.changed_payload(before, changed)}
        emit(events.COMMODITY_UPDATED, aggregate=commodity, actor=actor, payload=payload)
    return commodity


def _commodity(commodity_id: UUID, *, lock: bool = False) -> Commodity:
    queryset = Commodity.objects.select_for_update() if lock else Commodity.objects.all()
    commodity = queryset.filter(pk=commodity_id).first()
    if commodity is None:
        raise NotFound(f"No commodity with id {commodity_id}.")
    return commodity


# --- varieties --------------------------------------------------------------------------------


def variety_create(
    *, actor: Any, commodity_id: UUID, code: str, name: str, description: str = "", is_active: bool = True
) -> Variety:
    ensure_can(actor, ADD, "variety")
    with transaction.atomic():
        commodity = _commodity(commodity_id)
        variety = Variety(
            commodity=commodity, code=code.strip().upper(), name=name, description=description, is_active=is_active
        )
        _clean(variety)
        variety.save()
        emit(events.VARIETY_CREATED, aggregate=variety, actor=actor, payload=events.variety_payload(variety))
    return variety


def variety_update(*, actor: Any, commodity_id: UUID, variety_id: UUID, **changes: Any) -> Variety:
    ensure_can(actor, CHANGE, "variety")
    with transaction.atomic():
        variety = _lock(Variety.objects.filter(commodity_id=commodity_id), variety_id, "variety")
        before, changed = _apply(variety, changes, VARIETY_UPDATABLE)
        if not changed:
            return variety
        _clean(variety)
        variety.save(update_fields=_update_fields(changed))
        payload = {**events.variety_payload(variety), "changed": events.changed_payload(before, changed)}
        emit(events.VARIETY_UPDATED, aggregate=variety, actor=actor, payload=payload)
    return variety


# --- quality parameters -----------------------------------------------------------------------


def parameter_create(
    *,
    actor: Any,
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
        commodity = _commodity(commodity_id)
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
        _clean(parameter)
        parameter.save()
        emit(
            events.PARAMETER_CHANGED,
            aggregate=parameter,
            actor=actor,
            payload=events.parameter_payload(parameter, change="created"),
        )
    return parameter


def parameter_update(*, actor: Any, commodity_id: UUID, parameter_id: UUID, **changes: Any) -> QualityParameter:
    """Change a parameter. Refuses its `code` and `kind` (stable), and its reporting precision
    once an activated schedule reads it (that would change frozen prices)."""
    ensure_can(actor, CHANGE, "qualityparameter")
    immutable = {"code", "kind"} & set(changes)
    if immutable:
        raise ParameterImmutable(f"A parameter's {' and '.join(sorted(immutable))} never change once created.")
    with transaction.atomic():
        parameter = _lock(QualityParameter.objects.filter(commodity_id=commodity_id), parameter_id, "parameter")
        before, changed = _apply(parameter, changes, PARAMETER_UPDATABLE)
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
        _clean(parameter)
        parameter.save(update_fields=_update_fields(changed))
        payload = {
            **events.parameter_payload(parameter, change="updated"),
            "changed": events.changed_payload(before, changed),
        }
        emit(events.PARAMETER_CHANGED, aggregate=parameter, actor=actor, payload=payload)
    return parameter


# --- quality schedules ------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the API, the admin and the seeder give it (see ScheduleRule)."""

    parameter: str  # the parameter's code
    kind: str
    lower: Decimal | None = None
    upper: Decimal | None = None
    basis: Decimal | None = None
    adjustment_kind: str = ""
    value: Decimal | None = None
    step: Decimal | None = None
    note: str = ""


def _build_rules(schedule: QualitySchedule, rules: Sequence[RuleSpec]) -> list[ScheduleRule]:
    """Validate every rule (field errors at `rules.<index>.<field>`) and the set (no overlaps)."""
    parameters = {p.code: p for p in QualityParameter.objects.filter(commodity_id=schedule.commodity_id)}
    built: list[ScheduleRule] = []
    errors: list[dict[str, Any]] = []
    for index, spec in enumerate(rules):
        parameter = parameters.get(spec.parameter)
        if parameter is None:
            errors.append(
                {
                    "attr": f"rules.{index}.parameter",
                    "code": "unknown_parameter",
                    "detail": f"The commodity has no quality parameter {spec.parameter!r}.",
                }
            )
            continue
        rule = ScheduleRule(
            schedule=schedule,
            parameter=parameter,
            kind=spec.kind,
            lower=spec.lower,
            upper=spec.upper,
            basis=spec.basis,
            adjustment_kind=spec.adjustment_kind or "",
            value=spec.value,
            step=spec.step,
            note=spec.note,
        )
        try:
            rule.full_clean(exclude=["schedule"])
        except ValidationError as exc:
            errors.extend(from_validation_error(exc, prefix=f"rules.{index}.").errors)
            continue
        built.append(rule)
    if not errors:
        errors = rule_set_errors(built)
    if errors:
        raise ScheduleInvalid(errors[0]["detail"], errors=errors)
    return built


def schedule_create(
    *,
    actor: Any,
    commodity_id: UUID,
    name: str,
    effective_from: date,
    basis_description: str = "",
    rules: Sequence[RuleSpec] = (),
) -> QualitySchedule:
    """Create the commodity's next schedule version as a draft, with its rules.

    Locks the commodity row so two creations cannot take the same version number.
    Emits commodities.schedule.created.
    """
    ensure_can(actor, ADD, "qualityschedule")
    with transaction.atomic():
        commodity = _commodity(commodity_id, lock=True)
        latest = QualitySchedule.objects.filter(commodity=commodity).aggregate(v=models.Max("version"))["v"]
        schedule = QualitySchedule(
            commodity=commodity,
            version=(latest or 0) + 1,
            name=name,
            basis_description=basis_description,
            effective_from=effective_from,
        )
        _clean(schedule)
        schedule.save()
        built = _build_rules(schedule, rules)
        ScheduleRule.objects.bulk_create(built)
        payload = {**events.schedule_payload(schedule), "rules": len(built)}
        emit(events.SCHEDULE_CREATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


def _lock_draft(schedule_id: UUID) -> QualitySchedule:
    schedule = _lock(QualitySchedule.objects.all(), schedule_id, "schedule")
    if schedule.is_frozen:
        raise ScheduleFrozen(f"Version {schedule.version} has been activated; create a new version instead.")
    return schedule


def schedule_update(*, actor: Any, schedule_id: UUID, **changes: Any) -> QualitySchedule:
    """Change a draft's name, basis description or effective date. Refuses activated versions."""
    ensure_can(actor, CHANGE, "qualityschedule")
    with transaction.atomic():
        schedule = _lock_draft(schedule_id)
        before, changed = _apply(schedule, changes, SCHEDULE_UPDATABLE)
        if not changed:
            return schedule
        _clean(schedule)
        schedule.save(update_fields=_update_fields(changed))
        payload = {**events.schedule_payload(schedule), "changed": events.changed_payload(before, changed)}
        emit(events.SCHEDULE_UPDATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


def schedule_rules_replace(*, actor: Any, schedule_id: UUID, rules: Sequence[RuleSpec]) -> QualitySchedule:
    """Replace a draft's rules. Refuses activated versions. Emits commodities.schedule.updated."""
    ensure_can(actor, CHANGE, "qualityschedule")
    with transaction.atomic():
        schedule = _lock_draft(schedule_id)
        built = _build_rules(schedule, rules)
        schedule.rules.all().delete()
        ScheduleRule.objects.bulk_create(built)
        schedule.save(update_fields=["updated_at"])
        payload = {**events.schedule_payload(schedule), "rules": len(built)}
        emit(events.SCHEDULE_UPDATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


def schedule_activate(*, actor: Any, commodity_id: UUID, schedule_id: UUID) -> QualitySchedule:
    """Make this version the commodity's active schedule; the previously active one is
    deactivated (it stays readable and usable explicitly). Freezes the version.

    Locks the commodity row, then the schedules. Refuses a schedule without rules. Activating
    the active version changes nothing. Emits commodities.schedule.activated.
    """
    ensure_can(actor, CHANGE, "qualityschedule")
    with transaction.atomic():
        commodity = _commodity(commodity_id, lock=True)
        schedule = _lock(QualitySchedule.objects.filter(commodity=commodity), schedule_id, "schedule")
        if schedule.is_active:
            return schedule
        built = list(schedule.rules.select_related("parameter"))
        if not built:
            raise ScheduleInvalid.for_field("rules", "A schedule needs at least one rule to be activated.")
        errors = rule_set_errors(built)
        if errors:
            raise ScheduleInvalid(errors[0]["detail"], errors=errors)
        previous = list(
            QualitySchedule.objects.select_for_update()
            .filter(commodity=commodity, is_active=True)
            .values_list("pk", flat=True)
        )
        QualitySchedule.objects.filter(pk__in=previous).update(is_active=False, updated_at=timezone.now())
        schedule.is_active = True
        schedule.activated_at = schedule.activated_at or timezone.now()
        schedule.save(update_fields=["is_active", "activated_at", "updated_at"])
        payload = {**events.schedule_payload(schedule), "deactivated": [str(pk) for pk in previous]}
        emit(events.SCHEDULE_ACTIVATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


# --- trade terms ------------------------------------------------------------------------------


def term_create(
    *,
    actor: Any,
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
        _clean(term)
        term.save()
        emit(events.TERMS_CREATED, aggregate=term, actor=actor, payload=events.term_payload(term))
    return term


def term_update(*, actor: Any, term_id: UUID, kind: str | None = None, **changes: Any) -> TradeTerm:
    """Change a term (deactivate with is_active=False). Its kind and code never change.
    With `kind`, a term of another kind is not found."""
    ensure_can(actor, CHANGE, "tradeterm")
    with transaction.atomic():
        queryset = TradeTerm.objects.filter(kind=kind) if kind else TradeTerm.objects.all()
        term = _lock(queryset, term_id, "term")
        before, changed = _apply(term, changes, TERM_UPDATABLE)
        if not changed:
            return term
        _clean(term)
        term.save(update_fields=_update_fields(changed))
        payload = {**events.term_payload(term), "changed": events.changed_payload(before, changed)}
        emit(events.TERMS_UPDATED, aggregate=term, actor=actor, payload=payload)
    return term


# --- commission structures --------------------------------------------------------------------


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
    actor: Any,
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
        commodity = _commodity(commodity_id, lock=True)
        commission = CommissionStructure(
            commodity=commodity,
            trade_type=_trade_type(trade_type),
            name=name,
            basis=basis,
            rate=rate,
            unit=_unit(unit, "unit"),
            applies_to=applies_to,
            is_active=is_active,
        )
        _refuse_overlap(commission)
        _clean(commission)
        commission.save()
        emit(
            events.COMMISSION_CREATED,
            aggregate=commission,
            actor=actor,
            payload=events.commission_payload(commission),
        )
    return commission


def commission_update(*, actor: Any, commodity_id: UUID, commission_id: UUID, **changes: Any) -> CommissionStructure:
    ensure_can(actor, CHANGE, "commissionstructure")
    with transaction.atomic():
        _commodity(commodity_id, lock=True)
        commission = _lock(
            CommissionStructure.objects.filter(commodity_id=commodity_id), commission_id, "commission structure"
        )
        before, changed = _apply(commission, _resolve_units(changes), COMMISSION_UPDATABLE)
        if not changed:
            return commission
        _refuse_overlap(commission)
        _clean(commission)
        commission.save(update_fields=_update_fields(changed))
        payload = {**events.commission_payload(commission), "changed": events.changed_payload(before, changed)}
        emit(events.COMMISSION_UPDATED, aggregate=commission, actor=actor, payload=payload)
    return commission

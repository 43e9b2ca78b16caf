"""Use cases of quality schedules: create a version as a draft, change it, replace its rules, activate it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.commodities import events
from apps.commodities.errors import (
    ScheduleInvalid,
    from_validation_error,
)
from apps.commodities.locks import lock_commodity, lock_draft_schedule, lock_row
from apps.commodities.models import (
    QualityParameter,
    QualitySchedule,
    ScheduleRule,
)
from apps.commodities.permissions import ADD, CHANGE, ensure_can
from apps.commodities.schedules import rule_set_errors
from apps.commodities.services.common import (
    apply_changes,
    full_clean,
    update_fields,
)
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit

SCHEDULE_UPDATABLE = frozenset({"name", "basis_description", "effective_from"})


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
    actor: User | None,
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
        commodity = lock_commodity(commodity_id)
        latest = QualitySchedule.objects.filter(commodity=commodity).aggregate(v=models.Max("version"))["v"]
        schedule = QualitySchedule(
            commodity=commodity,
            version=(latest or 0) + 1,
            name=name,
            basis_description=basis_description,
            effective_from=effective_from,
        )
        full_clean(schedule)
        schedule.save()
        built = _build_rules(schedule, rules)
        ScheduleRule.objects.bulk_create(built)
        payload = {**events.schedule_payload(schedule), "rules": len(built)}
        emit(events.SCHEDULE_CREATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


def schedule_update(
    *,
    actor: User | None,
    schedule_id: UUID,
    name: str | Unset = UNSET,
    basis_description: str | Unset = UNSET,
    effective_from: date | Unset = UNSET,
) -> QualitySchedule:
    """Change a draft's name, basis description or effective date. Refuses activated versions."""
    ensure_can(actor, CHANGE, "qualityschedule")
    changes = given(name=name, basis_description=basis_description, effective_from=effective_from)
    with transaction.atomic():
        schedule = lock_draft_schedule(schedule_id)
        before, changed = apply_changes(schedule, changes)
        if not changed:
            return schedule
        full_clean(schedule)
        schedule.save(update_fields=update_fields(changed))
        payload = {**events.schedule_payload(schedule), "changed": events.changed_payload(before, changed)}
        emit(events.SCHEDULE_UPDATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


def schedule_rules_replace(*, actor: User | None, schedule_id: UUID, rules: Sequence[RuleSpec]) -> QualitySchedule:
    """Replace a draft's rules. Refuses activated versions. Emits commodities.schedule.updated."""
    ensure_can(actor, CHANGE, "qualityschedule")
    with transaction.atomic():
        schedule = lock_draft_schedule(schedule_id)
        built = _build_rules(schedule, rules)
        schedule.rules.all().delete()
        ScheduleRule.objects.bulk_create(built)
        schedule.save(update_fields=["updated_at"])
        payload = {**events.schedule_payload(schedule), "rules": len(built)}
        emit(events.SCHEDULE_UPDATED, aggregate=schedule, actor=actor, payload=payload)
    return schedule


def schedule_activate(*, actor: User | None, commodity_id: UUID, schedule_id: UUID) -> QualitySchedule:
    """Make this version the commodity's active schedule; the previously active one is
    deactivated (it stays readable and usable explicitly). Freezes the version.

    Locks the commodity row, then the schedules. Refuses a schedule without rules. Activating
    the active version changes nothing. Emits commodities.schedule.activated.
    """
    ensure_can(actor, CHANGE, "qualityschedule")
    with transaction.atomic():
        commodity = lock_commodity(commodity_id)
        schedule = lock_row(QualitySchedule.objects.filter(commodity=commodity), schedule_id, "schedule")
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

"""Use cases of an organization's financial years: open one, correct it, activate it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.india import INDIA_TIMEZONE
from apps.core.logging import get_logger
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    ActiveFinancialYearRequired,
    FieldInvalid,
    FinancialYearInUse,
)
from apps.organizations.locks import lock_child, lock_organization
from apps.organizations.models import (
    LABEL_RE,
    DocumentSeries,
    FinancialYear,
    Organization,
)
from apps.organizations.permissions import (
    ADD,
    CHANGE,
    FINANCIAL_YEAR,
    ensure_can_change_master_data,
)
from apps.organizations.services.common import (
    apply_changes,
    changed_fields,
)
from apps.organizations.validators import (
    normalize_identifier,
)

log = get_logger(__name__)

FINANCIAL_YEAR_UPDATABLE = frozenset({"label", "start_date", "end_date"})


def indian_financial_year(on_date: date) -> tuple[date, date]:
    """The Indian financial year containing `on_date`: 1 April to 31 March."""
    first_year = on_date.year if on_date.month >= 4 else on_date.year - 1
    return date(first_year, 4, 1), date(first_year + 1, 3, 31)


def financial_year_label(start_date: date, end_date: date) -> str:
    """`2026-27` for a year across two calendar years, `2026` within one."""
    if start_date.year == end_date.year:
        return str(start_date.year)
    return f"{start_date.year}-{end_date.year % 100:02d}"


def india_today() -> date:
    """Today's date in India (the financial year of a document follows Indian dates)."""
    return timezone.localtime(timezone.now(), timezone=ZoneInfo(INDIA_TIMEZONE)).date()


def _year_bounds(start_date: date | None, end_date: date | None) -> tuple[date, date]:
    """Defaults: no dates -> the Indian year containing today; a start only -> one year long."""
    if start_date is None and end_date is None:
        return indian_financial_year(india_today())
    if start_date is None:
        raise FieldInvalid("start_date", "required", "Give the first day of the year with its last.")
    if end_date is None:
        if start_date.year >= date.max.year:  # a year from it would end past 9999-12-31
            raise FieldInvalid("end_date", "required", "Give the last day of a year that starts in 9999.")
        try:
            end_date = start_date.replace(year=start_date.year + 1) - timedelta(days=1)
        except ValueError:  # 29 February
            end_date = date(start_date.year + 1, 2, 28)
    if end_date <= start_date:
        raise FieldInvalid("end_date", "end_not_after_start", "A financial year ends after it starts.")
    return start_date, end_date


def _check_year_fits(
    *, organization: Organization, start_date: date, end_date: date, label: str, exclude_pk: UUID | None = None
) -> None:
    if not re.match(LABEL_RE, label):
        raise FieldInvalid("label", "invalid_label", "A label is up to 20 capitals, digits and dashes, e.g. 2026-27.")
    others = FinancialYear.objects.filter(organization=organization)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    overlapping = others.filter(start_date__lte=end_date, end_date__gte=start_date).order_by("start_date").first()
    if overlapping is not None:
        raise FieldInvalid(
            "start_date",
            "financial_year_overlaps",
            f"The year overlaps financial year {overlapping.label} "
            f"({overlapping.start_date.isoformat()} to {overlapping.end_date.isoformat()}).",
        )
    if others.filter(label=label).exists():
        raise FieldInvalid("label", "unique", f"The organization already has a financial year labelled {label}.")


def financial_year_create(
    *,
    organization_id: UUID,
    start_date: date | None = None,
    end_date: date | None = None,
    label: str = "",
    is_active: bool = False,
    actor: Actor | None = None,
) -> FinancialYear:
    """Open a financial year (default: the Indian one containing today, 1 April to 31 March).

    Refuses overlap with another year of the organization (400 on start_date). The first year is
    active; `is_active=True` activates the new one (emitting `activated` as well as `created`).
    """
    ensure_can_change_master_data(actor, organization_id=organization_id, action=ADD, model=FINANCIAL_YEAR)
    start_date, end_date = _year_bounds(start_date, end_date)
    label = normalize_identifier(label) or financial_year_label(start_date, end_date)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        _check_year_fits(organization=organization, start_date=start_date, end_date=end_date, label=label)
        previous = FinancialYear.objects.filter(organization=organization, is_active=True).first()
        activate = is_active or not FinancialYear.objects.filter(organization=organization).exists()
        if activate and previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active", "updated_at"])
        year = FinancialYear.objects.create(
            organization=organization, label=label, start_date=start_date, end_date=end_date, is_active=activate
        )
        emit(events.FINANCIAL_YEAR_CREATED, aggregate=year, actor=actor, payload=events.financial_year_payload(year))
        if activate:
            _emit_activated(year, previous=previous, actor=actor)
    return year


def _emit_activated(year: FinancialYear, *, previous: FinancialYear | None, actor: Actor | None) -> None:
    emit(
        events.FINANCIAL_YEAR_ACTIVATED,
        aggregate=year,
        actor=actor,
        payload={
            **events.financial_year_payload(year),
            "previous_financial_year_id": str(previous.id) if previous else None,
            "previous_label": previous.label if previous else None,
        },
    )


def financial_year_activate(
    *, organization_id: UUID, financial_year_id: UUID, actor: Actor | None = None
) -> FinancialYear:
    """Make this the organization's active year; the previous one stops being active. Activating
    the active year changes nothing and emits nothing."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=CHANGE, model=FINANCIAL_YEAR)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        year = lock_child(FinancialYear, organization_id=organization.id, pk=financial_year_id, what="financial year")
        if year.is_active:
            return year
        previous = FinancialYear.objects.select_for_update().filter(organization=organization, is_active=True).first()
        if previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active", "updated_at"])
        year.is_active = True
        year.save(update_fields=["is_active", "updated_at"])
        _emit_activated(year, previous=previous, actor=actor)
    return year


def financial_year_update(
    *,
    organization_id: UUID,
    financial_year_id: UUID,
    actor: Actor | None = None,
    label: str | Unset = UNSET,
    start_date: date | Unset = UNSET,
    end_date: date | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> FinancialYear:
    """Correct a year's dates or label, only while no number has been issued in it (409 after)."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=CHANGE, model=FINANCIAL_YEAR)
    changes = given(label=label, start_date=start_date, end_date=end_date)
    if is_active is not UNSET:
        raise ActiveFinancialYearRequired("Activate a year with its activate operation.")
    with transaction.atomic():
        organization = lock_organization(organization_id)
        year = lock_child(FinancialYear, organization_id=organization.id, pk=financial_year_id, what="financial year")
        if "label" in changes:
            changes["label"] = normalize_identifier(changes["label"])
        changed = changed_fields(year, changes)
        if not changed:
            return year
        if DocumentSeries.objects.filter(financial_year=year, counter__gt=0).exists():
            raise FinancialYearInUse()
        new_start: date = changes.get("start_date", year.start_date)
        new_end: date = changes.get("end_date", year.end_date)
        if new_end <= new_start:
            raise FieldInvalid("end_date", "end_not_after_start", "A financial year ends after it starts.")
        _check_year_fits(
            organization=organization,
            start_date=new_start,
            end_date=new_end,
            label=changes.get("label", year.label),
            exclude_pk=year.pk,
        )
        apply_changes(year, changed, changes)
        emit(
            events.FINANCIAL_YEAR_UPDATED,
            aggregate=year,
            actor=actor,
            payload={**events.financial_year_payload(year), "changed": changed},
        )
    return year

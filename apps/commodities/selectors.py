"""Reads of the global masters: open to every signed-in user, so nothing here is scoped by
organization. List querysets prefetch what their output shows, so a page costs the same number
of queries whatever its size."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from apps.commodities.models import (
    CommissionStructure,
    Commodity,
    QualityParameter,
    QualitySchedule,
    ScheduleRule,
    TradeTerm,
    Unit,
    Variety,
)
from apps.core.errors import NotFound


def units_list(*, is_active: bool | None = None) -> QuerySet[Unit]:
    queryset = Unit.objects.all()
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("factor_to_kg", "code")


def _with_children(queryset: QuerySet[Commodity]) -> QuerySet[Commodity]:
    return queryset.select_related("base_unit", "trade_unit", "rate_unit").prefetch_related(
        Prefetch("varieties", queryset=Variety.objects.order_by("name")),
        Prefetch("parameters", queryset=QualityParameter.objects.order_by("order", "code")),
    )


def commodities_list(
    *, is_active: bool | None = None, category: str | None = None, search: str | None = None
) -> QuerySet[Commodity]:
    """Commodities with their units, varieties and parameters (three queries per page)."""
    queryset = Commodity.objects.all()
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if category:
        queryset = queryset.filter(category=category)
    if search:
        queryset = queryset.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return _with_children(queryset).order_by("code")


def commodity_get(commodity_id: UUID) -> Commodity:
    commodity = _with_children(Commodity.objects.filter(pk=commodity_id)).first()
    if commodity is None:
        raise NotFound(f"No commodity with id {commodity_id}.")
    return commodity


def _ensure_commodity(commodity_id: UUID) -> None:
    if not Commodity.objects.filter(pk=commodity_id).exists():
        raise NotFound(f"No commodity with id {commodity_id}.")


def varieties_list(*, commodity_id: UUID, is_active: bool | None = None) -> QuerySet[Variety]:
    _ensure_commodity(commodity_id)
    queryset = Variety.objects.filter(commodity_id=commodity_id)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("code")


def variety_get(*, commodity_id: UUID, variety_id: UUID) -> Variety:
    variety = Variety.objects.filter(commodity_id=commodity_id, pk=variety_id).first()
    if variety is None:
        raise NotFound(f"No variety with id {variety_id} in this commodity.")
    return variety


def parameters_list(*, commodity_id: UUID, is_active: bool | None = None) -> QuerySet[QualityParameter]:
    _ensure_commodity(commodity_id)
    queryset = QualityParameter.objects.filter(commodity_id=commodity_id)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("order", "code")


def parameter_get(*, commodity_id: UUID, parameter_id: UUID) -> QualityParameter:
    parameter = QualityParameter.objects.filter(commodity_id=commodity_id, pk=parameter_id).first()
    if parameter is None:
        raise NotFound(f"No quality parameter with id {parameter_id} in this commodity.")
    return parameter


def _schedules_with_rules(queryset: QuerySet[QualitySchedule]) -> QuerySet[QualitySchedule]:
    return queryset.prefetch_related(
        Prefetch("rules", queryset=ScheduleRule.objects.select_related("parameter").order_by("created_at", "id"))
    )


def schedules_list(*, commodity_id: UUID, is_active: bool | None = None) -> QuerySet[QualitySchedule]:
    _ensure_commodity(commodity_id)
    queryset = QualitySchedule.objects.filter(commodity_id=commodity_id)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return _schedules_with_rules(queryset).order_by("-version")


def schedule_get(*, commodity_id: UUID, schedule_id: UUID) -> QualitySchedule:
    """One version with its rules, and its commodity with the parameters (what
    `schedules.price_adjustment` reads), in four queries."""
    queryset = QualitySchedule.objects.filter(commodity_id=commodity_id, pk=schedule_id).select_related("commodity")
    schedule = _schedules_with_rules(queryset).prefetch_related("commodity__parameters").first()
    if schedule is None:
        raise NotFound(f"No schedule with id {schedule_id} in this commodity.")
    return schedule


def active_schedule(commodity_id: UUID) -> QualitySchedule | None:
    """The commodity's active schedule version, if any (callers then store which one they used)."""
    queryset = QualitySchedule.objects.filter(commodity_id=commodity_id, is_active=True).select_related("commodity")
    return _schedules_with_rules(queryset).prefetch_related("commodity__parameters").first()


def terms_list(*, kind: str, is_active: bool | None = None, search: str | None = None) -> QuerySet[TradeTerm]:
    queryset = TradeTerm.objects.filter(kind=kind)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if search:
        queryset = queryset.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return queryset.order_by("code")


def term_get(*, kind: str, term_id: UUID) -> TradeTerm:
    term = TradeTerm.objects.filter(kind=kind, pk=term_id).first()
    if term is None:
        raise NotFound(f"No {kind} term with id {term_id}.")
    return term


def commissions_list(
    *, commodity_id: UUID, is_active: bool | None = None, trade_type: str | None = None
) -> QuerySet[CommissionStructure]:
    _ensure_commodity(commodity_id)
    queryset = CommissionStructure.objects.filter(commodity_id=commodity_id).select_related("trade_type", "unit")
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if trade_type:
        queryset = queryset.filter(trade_type__code=trade_type.strip().upper())
    return queryset.order_by("-created_at", "-id")


def commission_get(*, commodity_id: UUID, commission_id: UUID) -> CommissionStructure:
    commission = (
        CommissionStructure.objects.filter(commodity_id=commodity_id, pk=commission_id)
        .select_related("trade_type", "unit")
        .first()
    )
    if commission is None:
        raise NotFound(f"No commission structure with id {commission_id} in this commodity.")
    return commission

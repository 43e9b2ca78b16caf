"""Row locks of the global masters (SELECT ... FOR UPDATE; call inside transaction.atomic()).

Lock order: the commodity row first (it serialises schedule versions, the active schedule and
the overlap check of commission structures), then the row being changed.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from django.db import models

from apps.commodities.errors import ScheduleFrozen
from apps.commodities.models import Commodity, QualitySchedule
from apps.core.errors import NotFound

M = TypeVar("M", bound=models.Model)


def lock_row(queryset: models.QuerySet[M], pk: UUID, what: str) -> M:
    """The row `pk` of `queryset`, locked; 404 when it is not there."""
    found = queryset.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {what} with id {pk}.")
    return found


def lock_commodity(commodity_id: UUID) -> Commodity:
    return lock_row(Commodity.objects.all(), commodity_id, "commodity")


def lock_draft_schedule(schedule_id: UUID) -> QualitySchedule:
    """A schedule that has never been activated, locked (409 once activated: it is frozen)."""
    schedule = lock_row(QualitySchedule.objects.all(), schedule_id, "schedule")
    if schedule.is_frozen:
        raise ScheduleFrozen(f"Version {schedule.version} has been activated; create a new version instead.")
    return schedule

"""Periodic tasks are code: `settings.PERIODIC_TASKS` is synced into django-celery-beat's tables.

Rows we manage are marked by the description prefix so tasks created by other means are left
alone, and a task removed from the code is disabled rather than left to run.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

MANAGED_PREFIX = "[code] "


def sync_periodic_tasks() -> dict[str, int]:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = updated = disabled = 0
    wanted: dict[str, dict[str, Any]] = settings.PERIODIC_TASKS
    with transaction.atomic():
        for name, spec in wanted.items():
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=int(spec["every_seconds"]), period=IntervalSchedule.SECONDS
            )
            defaults = {
                "task": spec["task"],
                "interval": interval,
                "crontab": None,
                "enabled": True,
                "description": MANAGED_PREFIX + str(spec.get("description", "")),
            }
            task, was_created = PeriodicTask.objects.select_for_update().get_or_create(name=name, defaults=defaults)
            if was_created:
                created += 1
                continue
            changed = [k for k, v in defaults.items() if getattr(task, k) != v]
            if changed:
                for k in changed:
                    setattr(task, k, defaults[k])
                task.save()
                updated += 1
        stale = PeriodicTask.objects.filter(description__startswith=MANAGED_PREFIX, enabled=True).exclude(
            name__in=list(wanted)
        )
        for task in stale:
            task.enabled = False
            task.save()
            disabled += 1
    return {"created": created, "updated": updated, "disabled": disabled}


def sync_periodic_tasks_after_migrate(**kwargs: Any) -> None:
    sync_periodic_tasks()

"""Celery tasks of the matching app: one service call each."""

from __future__ import annotations

from celery import shared_task

from apps.matching.services.sweep import matching_sweep


@shared_task(name="apps.matching.tasks.sweep")
def sweep() -> dict[str, int | bool]:
    """Beat (settings.PERIODIC_TASKS): re-score what changed since the last sweep, withdraw what no
    longer passes."""
    result = matching_sweep()
    return {
        "ran": result.ran,
        "requirements": result.requirements,
        "availabilities": result.availabilities,
        "partners": result.partners,
    }

"""Celery tasks of risk: one service call each."""

from __future__ import annotations

from celery import shared_task

from apps.risk.services.monitoring import exposure_sweep as sweep


@shared_task(name="apps.risk.tasks.exposure_sweep")
def exposure_sweep() -> dict[str, int]:
    """Beat, every 5 minutes (settings.PERIODIC_TASKS): credit rows whose weighted exposure or
    level is stale are brought up to date; each level crossing emits one risk.exposure.alert."""
    return {"alerts": sweep()}

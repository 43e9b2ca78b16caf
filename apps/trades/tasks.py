"""Celery tasks of trades: one service call each."""

from __future__ import annotations

from celery import shared_task

from apps.trades.services import negotiations


@shared_task(name="apps.trades.tasks.expire_negotiations")
def expire_negotiations() -> dict[str, int]:
    """Beat, every minute (settings.PERIODIC_TASKS): negotiations idle past their expiry -> EXPIRED."""
    return {"expired": negotiations.negotiations_expire_due()}

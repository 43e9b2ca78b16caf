"""Celery tasks of the trade desk: one service call each."""

from __future__ import annotations

from celery import shared_task

from apps.tradedesk.services import availabilities, requirements, reservations


@shared_task(name="apps.tradedesk.tasks.expire_requirements")
def expire_requirements() -> dict[str, int]:
    """Beat, every minute (settings.PERIODIC_TASKS): requirements past valid_until -> EXPIRED."""
    return {"expired": requirements.requirements_expire_due()}


@shared_task(name="apps.tradedesk.tasks.expire_availabilities")
def expire_availabilities() -> dict[str, int]:
    """Beat, every minute: ACTIVE/RESERVED availabilities past their expiry -> EXPIRED."""
    return {"expired": availabilities.availabilities_expire_due()}


@shared_task(name="apps.tradedesk.tasks.expire_reservations")
def expire_reservations() -> dict[str, int]:
    """Beat, every minute: ACTIVE reservations past their expiry -> EXPIRED, quantity available again."""
    return {"expired": reservations.reservations_expire_due()}

"""Celery tasks of the partners app: one service call each."""

from __future__ import annotations

from celery import shared_task

from apps.partners.services import kyc


@shared_task(name="apps.partners.tasks.kyc_sweep")
def kyc_sweep() -> dict[str, int]:
    """Beat, every 6 hours (settings.PERIODIC_TASKS): KYC reminders, KYC and document expiry."""
    return kyc.kyc_sweep()

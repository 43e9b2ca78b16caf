"""Celery tasks of the shared kernel: one service call each."""

from __future__ import annotations

from celery import shared_task

from apps.core.idempotency import idempotency_prune


@shared_task(name="apps.core.tasks.prune_idempotency_keys")
def prune_idempotency_keys() -> dict[str, int]:
    return {"deleted": idempotency_prune()}

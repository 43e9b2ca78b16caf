"""How risk reacts to lower apps' events (registered in AppConfig.ready()). Handlers run in the
relay's handler transaction, one savepoint each with its processed marker; they only touch the
database."""

from __future__ import annotations

from uuid import UUID

from apps.events.envelope import EventEnvelope
from apps.events.registry import register_handler
from apps.partners import events as partner_events
from apps.risk.locks import lock_credit_account


def on_application_approved(event: EventEnvelope) -> None:
    """A partner was approved: create its credit row (limit = the onboarding credit limit)."""
    if event.partner:
        lock_credit_account(UUID(event.partner))


def register_handlers() -> None:
    register_handler(
        partner_events.APPLICATION_APPROVED, on_application_approved, name="risk.credit_account_on_approval"
    )

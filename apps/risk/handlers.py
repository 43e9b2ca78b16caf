"""How risk reacts to lower apps' events (registered in AppConfig.ready()). Handlers run in the
relay's handler transaction, one savepoint each with its processed marker; they only touch the
database."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from apps.events.envelope import EventEnvelope
from apps.events.registry import register_handler
from apps.partners import events as partner_events
from apps.partners.models import AmendmentKind, PartnerAmendment
from apps.risk.locks import lock_credit_account
from apps.risk.services.exposure import exposure_release
from apps.risk.services.limits import credit_limit_request_from_amendment


def on_application_approved(event: EventEnvelope) -> None:
    """A partner was approved: create its credit row (limit = the onboarding credit limit)."""
    if event.partner:
        lock_credit_account(UUID(event.partner))


def on_amendment_approved(event: EventEnvelope) -> None:
    """A partner's CREDIT_LIMIT amendment was approved by the partners desk: the limit it asks
    for waits for a risk officer (services.limits.credit_limit_request_from_amendment)."""
    if event.payload.get("kind") != AmendmentKind.CREDIT_LIMIT:
        return
    amendment_id = event.payload.get("amendment_id")
    if not amendment_id:
        return
    amendment = PartnerAmendment.objects.filter(pk=str(amendment_id)).first()
    if amendment is None or "credit_limit" not in amendment.new_values:
        return
    credit_limit_request_from_amendment(
        partner_id=amendment.partner_id,
        amendment_id=amendment.pk,
        credit_limit=Decimal(str(amendment.new_values["credit_limit"])),
        requested_by_id=amendment.decided_by_id,
        reason=amendment.reason,
    )


# Higher apps' events risk reacts to, by name (risk imports no higher app).
REQUIREMENT_CLOSED_EVENTS = (
    "tradedesk.requirement.expired",
    "tradedesk.requirement.fulfilled",
    "tradedesk.requirement.cancelled",
)


def on_requirement_closed(event: EventEnvelope) -> None:
    """A requirement expired, was fulfilled or cancelled: release its POSTED exposure (the trade
    desk releases it in the cancel transaction already; releasing twice changes nothing)."""
    exposure_release(source_type="requirement", source_id=UUID(event.aggregate_id))


def register_handlers() -> None:
    register_handler(
        partner_events.APPLICATION_APPROVED, on_application_approved, name="risk.credit_account_on_approval"
    )
    register_handler(partner_events.AMENDMENT_APPROVED, on_amendment_approved, name="risk.limit_from_amendment")
    for event_type in REQUIREMENT_CLOSED_EVENTS:
        register_handler(event_type, on_requirement_closed, name=f"risk.release_exposure.{event_type}")

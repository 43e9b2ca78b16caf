"""The event envelope every consumer sees (handlers, webhooks, websockets, the feed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.events.models import OutboxEvent


@dataclass(frozen=True)
class EventEnvelope:
    id: str
    position: int
    type: str
    version: int
    occurred_at: datetime
    organization: str | None
    partner: str | None
    aggregate_type: str
    aggregate_id: str
    actor: str | None
    correlation_id: str
    payload: dict[str, Any]
    # Further partners the event concerns (OutboxEvent.parties); routing only, not in the body.
    parties: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: OutboxEvent) -> EventEnvelope:
        return cls(
            id=str(row.id),
            position=row.position,
            type=row.type,
            version=row.version,
            occurred_at=row.occurred_at,
            organization=str(row.organization_id) if row.organization_id else None,
            partner=str(row.partner_id) if row.partner_id else None,
            aggregate_type=row.aggregate_type,
            aggregate_id=row.aggregate_id,
            actor=str(row.actor_id) if row.actor_id else None,
            correlation_id=row.correlation_id,
            payload=row.payload,
            parties=tuple(str(party) for party in row.parties or ()),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe; the body of webhooks and the `event` of websocket frames."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "organization": self.organization,
            "partner": self.partner,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "payload": self.payload,
        }

"""Builders of matching test data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.matching.models import MatchProposal


def proposal(requirement: Any, availability: Any, **overrides: Any) -> MatchProposal:
    """A stored ACTIVE proposal for the pair (without running the engine)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "organization_id": requirement.organization_id,
        "requirement": requirement,
        "availability": availability,
        "buyer_id": requirement.partner_id,
        "seller_id": availability.partner_id,
        "commodity_id": requirement.commodity_id,
        "score": Decimal("0.800000"),
        "components": {"quality": 1.0, "price": 0.5, "delivery": 0.5, "risk": 1.0},
        "raw_price_per_kg": availability.price_per_kg,
        "adjusted_price_per_kg": availability.price_per_kg,
        "proposed_at": now,
        "scored_at": now,
    }
    fields.update(overrides)
    return MatchProposal.objects.create(**fields)

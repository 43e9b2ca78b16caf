"""Builders of matching test data."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.matching.models import MatchProposal
from apps.partners.tests import factories as partner_factories


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


_serial = itertools.count(101)


def distinct_partner(organization: Any, legal_name: str, **overrides: Any) -> Any:
    """An ACTIVE, KYC-verified partner (buy and sell) with its own phone, e-mail domain and bank
    account; `.owner` is its owner."""
    n = next(_serial)
    slug = "".join(c for c in legal_name.lower() if c.isalnum())[:20]
    return partner_factories.approved_partner(
        organization,
        legal_name=legal_name,
        contact_email=f"office@{slug}{n}.example",
        contact_phone=f"+9198000{n:05d}",
        bank_account_number=f"5000000{n:05d}",
        **overrides,
    )

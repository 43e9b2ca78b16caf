"""Builders of trades test data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.matching.tests.factories import proposal
from apps.partners.models import Branch, BusinessPartner
from apps.tradedesk.tests import factories as desk
from apps.trades.models import Negotiation, Offer
from apps.trades.services import negotiations as services


@dataclass
class Deal:
    seller: Any
    buyer: Any
    availability: Any
    requirement: Any
    match: Any


def place(partner: Any, *, city: str, state_code: str) -> None:
    """Move a partner's head office (its default ship-to and ship-from branch) to `city`."""
    partner.city, partner.state_code = city, state_code
    partner.save(update_fields=["city", "state_code"])
    Branch.objects.filter(partner=partner).update(city=city, state_code=state_code)


def credit(partner: Any, limit: Decimal = Decimal("50000000")) -> None:
    """The partner's credit limit (its risk credit row takes it when first locked)."""
    from apps.risk.models import CreditAccount

    BusinessPartner.objects.filter(pk=partner.pk).update(credit_limit=limit)
    CreditAccount.objects.filter(partner_id=partner.pk).update(credit_limit=limit)


def deal(seller: Any, buyer: Any, commodity: Any, *, kg: Decimal = Decimal("17000"), **availability: Any) -> Deal:
    place(seller, city="Rajkot", state_code="24")
    place(buyer, city="Coimbatore", state_code="33")
    credit(buyer)
    availability.setdefault("min_order_kg", Decimal("1700"))
    offer = desk.availability(seller, commodity, kg=kg, **availability)
    requirement = desk.requirement(buyer, commodity)
    return Deal(seller, buyer, offer, requirement, proposal(requirement, offer))


def offer_data(**overrides: Any) -> dict[str, Any]:
    """50 bales at 60,000 a candy, delivered in the next 30 days."""
    today = timezone.localdate()
    data: dict[str, Any] = {
        "price": Decimal("60000"),
        "price_unit": "CANDY",
        "quantity": Decimal("50"),
        "quantity_unit": "BALE",
        "delivery_from": today + timedelta(days=7),
        "delivery_until": today + timedelta(days=30),
        "quality_conditions": {"staple_length": {"min": "28.5"}},
        "message": "Fresh crop, ready to load.",
    }
    data.update(overrides)
    return data


def start(deal: Deal, actor: Any | None = None) -> Negotiation:
    return services.negotiation_start(actor=actor or deal.buyer.owner, match_token=deal.match.token)


def offer(negotiation: Negotiation, actor: Any, **overrides: Any) -> Offer:
    return services.negotiation_offer_make(
        actor=actor, negotiation_id=negotiation.pk, terms=services.OfferTerms(**offer_data(**overrides))
    )

"""The shared trade-desk fixtures are what the other tests assume they are."""

from __future__ import annotations

from decimal import Decimal

from apps.partners.capability_rules import trading_refusal
from apps.tradedesk.tests import factories


def test_seller_and_buyer_may_trade_and_an_availability_adds_up(seller, buyer, cotton):
    from django.utils import timezone

    today = timezone.localdate()
    assert trading_refusal(seller, "sell", today=today) is None
    assert trading_refusal(buyer, "buy", today=today) is None
    availability = factories.availability(seller, cotton)
    assert (availability.total_kg, availability.available_kg, availability.reserved_kg) == (
        Decimal("17000"),
        Decimal("17000"),
        Decimal("0"),
    )
    requirement = factories.requirement(buyer, cotton)
    assert requirement.max_kg == Decimal("34000")

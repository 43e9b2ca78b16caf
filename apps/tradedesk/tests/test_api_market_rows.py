"""The market views build their rows from plain `.values()` rows (api.market.availability_rows /
requirement_rows), not through the Market*Output serializers, which stay the documented schema.
These tests hold the two to the same JSON: every row of a page, for a partner and for staff, with
nulls and values in every nullable field, equals what the documented serializer gives for the
same postings as model instances."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.commodities.models import TermKind
from apps.commodities.tests.factories import TradeTermFactory
from apps.core.renderers import OrjsonRenderer
from apps.partners.models import BusinessPartner
from apps.tradedesk import market
from apps.tradedesk.api.market import MarketAvailabilityOutput, MarketRequirementOutput
from apps.tradedesk.models import Visibility
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

AVAILABILITIES = "/api/v1/market/availabilities/"
REQUIREMENTS = "/api/v1/market/requirements/"


def _documented(serializer: Any, rows: Any) -> list[dict[str, Any]]:
    """The documented serializer over model instances, rendered as the API renders."""
    instances = list(rows.order_by("-created_at", "-id"))
    return json.loads(OrjsonRenderer().render(serializer(instances, many=True).data))


def _postings(seller: Any, buyer: Any, cotton: Any) -> None:
    BusinessPartner.objects.filter(pk=seller.pk).update(risk_category="HIGH")
    shankar = cotton.varieties.get(code="SHANKAR-6")
    delivery = TradeTermFactory(kind=TermKind.DELIVERY, code="EX_GIN")
    payment = TradeTermFactory(
        kind=TermKind.PAYMENT,
        code="NET_30",
        advance_percent=Decimal("0"),
        payment_days=30,
        carry_charge_percent_per_annum=Decimal("18"),
    )
    now = timezone.now()
    factories.availability(seller, cotton, number="AV/2026-27/000001")
    factories.availability(
        seller,
        cotton,
        number="AV/2026-27/000002",
        variety=shankar,
        delivery_term=delivery,
        day_only=True,
        partial_allowed=False,
        min_order_kg=Decimal("1700.5"),
        price=Decimal("61000.5"),
        state_code="",
        region="",
        expires_at=now + timedelta(hours=5, microseconds=123),
    )
    factories.availability(seller, cotton, visibility=Visibility.RESTRICTED).invited_partners.set([buyer])
    factories.availability(seller, cotton, visibility=Visibility.PRIVATE, state_code="MH")
    factories.requirement(seller, cotton, number="RQ/2026-27/000001")
    factories.requirement(
        seller,
        cotton,
        number="RQ/2026-27/000002",
        variety=shankar,
        delivery_term=delivery,
        payment_term=payment,
        preferred_quantity=Decimal("100"),
        preferred_kg=Decimal("17000"),
        preferred_price=Decimal("60000"),
        preferred_price_per_kg=Decimal("168.7194"),
        fulfilled_kg=Decimal("1700"),
        published_at=now - timedelta(minutes=30),
        urgency="URGENT",
    )
    factories.requirement(seller, cotton, visibility=Visibility.RESTRICTED).invited_partners.set([buyer])
    factories.requirement(seller, cotton, visibility=Visibility.PRIVATE, state_code="")


@pytest.mark.parametrize("who", ["partner", "staff"])
def test_market_rows_are_the_documented_serializers_json(authenticate, seller, buyer, cotton, desk_manager, who):
    _postings(seller, buyer, cotton)
    user = buyer.owner if who == "partner" else desk_manager
    client = authenticate(user)

    offers = client.get(AVAILABILITIES, {"page_size": 50}).json()["results"]
    wanted = client.get(REQUIREMENTS, {"page_size": 50}).json()["results"]

    viewer = market.market_viewer(user, staff_perm=market.VIEW_AVAILABILITY)
    assert offers == _documented(MarketAvailabilityOutput, market.market_availabilities(viewer))
    viewer = market.market_viewer(user, staff_perm=market.VIEW_REQUIREMENT)
    assert wanted == _documented(MarketRequirementOutput, market.market_requirements(viewer))
    # What each side sees: three rows for the partner (no PRIVATE one), four named rows for staff.
    assert len(offers) == len(wanted) == (3 if who == "partner" else 4)
    posters = {row["poster"]["number"] if row["poster"] else None for row in offers + wanted}
    if who == "partner":
        assert posters == {None}
    else:
        assert {"AV/2026-27/000001", "AV/2026-27/000002", "RQ/2026-27/000001", "RQ/2026-27/000002"} <= posters
    assert {row["rating_band"] for row in offers + wanted} == {"C"}
    assert {row["variety_code"] for row in offers} == {None, "SHANKAR-6"}
    assert {row["payment_term_code"] for row in wanted} == {None, "NET_30"}


def test_market_rows_follow_the_current_time_zone(authenticate, seller, buyer, cotton):
    factories.availability(seller, cotton)
    client = authenticate(buyer.owner)

    with timezone.override("UTC"):
        utc = client.get(AVAILABILITIES).json()["results"][0]
        documented = _documented(MarketAvailabilityOutput, market.market_availabilities(_partner_viewer(buyer)))
    local = client.get(AVAILABILITIES).json()["results"][0]

    assert utc == documented[0]
    assert utc["expires_at"].endswith("Z")
    assert local["expires_at"].endswith("+05:30")


def _partner_viewer(partner: Any) -> market.MarketViewer:
    return market.market_viewer(partner.owner, staff_perm=market.VIEW_AVAILABILITY)

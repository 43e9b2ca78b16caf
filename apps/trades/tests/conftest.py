"""Fixtures of the trades tests: the trade desk's parties (a Rajkot ginner selling, a Coimbatore
mill buying, approved through the real onboarding services), cotton, desk staff, and an active
availability, requirement and match proposal between them."""

from __future__ import annotations

from typing import Any

import pytest

from apps.tradedesk.tests.conftest import (  # noqa: F401  (fixtures)
    _media_root,
    _partner_resolvers,
    _tradedesk_resolvers,
    buyer,
    buyer_trader,
    buyer_viewer,
    cotton,
    desk_manager,
    financial_year,
    foreign_partner,
    other_org_desk_manager,
    seller,
    seller_trader,
    seller_viewer,
    units,
)
from apps.trades.tests import factories


@pytest.fixture(autouse=True)
def _trades_resolvers() -> None:
    from apps.trades.resolvers import register_resolvers

    register_resolvers()


@pytest.fixture
def deal(request: Any) -> factories.Deal:
    """A 100-bale Shankar-6 offer from Rajkot (minimum 10 bales) at 60,000 a candy, a Coimbatore
    mill's requirement for 50-200 bales, and their match."""
    request.getfixturevalue("financial_year")
    fixture = request.getfixturevalue
    return factories.deal(fixture("seller"), fixture("buyer"), fixture("cotton"))


@pytest.fixture
def third_partner(request: Any) -> Any:
    from apps.partners.tests import factories as partner_factories

    organization = request.getfixturevalue("organization")
    return partner_factories.approved_partner(organization, legal_name="Akola Cotton Traders")

"""Fixtures of the matching tests: the trade desk's (cotton, desk staff, members), reused as they
are, and partners approved through the real onboarding services with contact details of their own
(the partners factory gives every partner the same phone, e-mail domain and bank account, which
risk's party check rightly WARNs about)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.matching.tests.factories import distinct_partner
from apps.tradedesk.tests.conftest import (  # noqa: F401  (pytest fixtures)
    _media_root,
    _partner_resolvers,
    _tradedesk_resolvers,
    buyer_trader,
    buyer_viewer,
    cotton,
    desk_manager,
    financial_year,
    kyc_officer,
    other_org_desk_manager,
    seller_trader,
    seller_viewer,
    units,
)


@pytest.fixture
def seller(organization: Any) -> Any:
    return distinct_partner(organization, "Shree Rajkot Ginning Private Limited")


@pytest.fixture
def buyer(organization: Any) -> Any:
    return distinct_partner(organization, "Coimbatore Spinning Mills Limited")


@pytest.fixture
def foreign_partner(other_organization: Any) -> Any:
    return distinct_partner(other_organization, "Adilabad Ginning Company")

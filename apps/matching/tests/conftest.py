"""Fixtures of the matching tests: the trade desk's (cotton, a seller ginner and a buyer mill of
one organization, a partner of another organization, desk staff), reused as they are."""

from __future__ import annotations

from apps.tradedesk.tests.conftest import (  # noqa: F401  (pytest fixtures)
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
    kyc_officer,
    other_org_desk_manager,
    seller,
    seller_trader,
    seller_viewer,
    units,
)

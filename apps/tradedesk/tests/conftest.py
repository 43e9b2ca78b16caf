"""Fixtures of the trade-desk tests: cotton with the SPEC's parameters, a seller (ginner) and a
buyer (mill) approved through the real onboarding services in one organization, a partner of
another organization, and desk staff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import UserFactory
from apps.commodities.tests.factories import cotton as build_cotton
from apps.commodities.tests.factories import units as build_units
from apps.partners.resolvers import register_resolvers
from apps.partners.tests import factories as partner_factories


@pytest.fixture(autouse=True)
def _partner_resolvers() -> None:
    """Other apps' tests replace the resolvers partners registers in ready(); put them back."""
    register_resolvers()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def units(db: Any) -> Any:
    return build_units()


@pytest.fixture
def cotton(db: Any) -> Any:
    return build_cotton()


def _staff(organization: Any, role: str) -> Any:
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def seller(organization: Any) -> Any:
    """An ACTIVE, KYC-verified Indian trader allowed to buy and sell; `.owner` is its owner."""
    return partner_factories.approved_partner(organization, legal_name="Shree Rajkot Ginning Private Limited")


@pytest.fixture
def buyer(organization: Any) -> Any:
    return partner_factories.approved_partner(organization, legal_name="Coimbatore Spinning Mills Limited")


@pytest.fixture
def seller_trader(seller: Any) -> Any:
    return partner_factories.member(seller, "TRADER")


@pytest.fixture
def seller_viewer(seller: Any) -> Any:
    return partner_factories.member(seller, "VIEWER")


@pytest.fixture
def foreign_partner(other_organization: Any) -> Any:
    """A partner of another organization (its `.owner` must never see this organization's market)."""
    return partner_factories.approved_partner(other_organization)


@pytest.fixture
def desk_manager(organization: Any) -> Any:
    return _staff(organization, Role.DESK_MANAGER)


@pytest.fixture
def kyc_officer(organization: Any) -> Any:
    return _staff(organization, Role.KYC_OFFICER)


@pytest.fixture
def other_org_desk_manager(other_organization: Any) -> Any:
    return _staff(other_organization, Role.DESK_MANAGER)


@pytest.fixture(autouse=True)
def _tradedesk_resolvers() -> None:
    """Other apps' tests replace or remove location references; put the trade desk's back."""
    from apps.tradedesk.resolvers import register_resolvers as register_tradedesk_resolvers

    register_tradedesk_resolvers()


@pytest.fixture
def financial_year(organization: Any) -> Any:
    """The organization's financial year containing today (publish and submit number from it)."""
    from apps.tradedesk.tests.factories import financial_year as build_financial_year

    return build_financial_year(organization)


@pytest.fixture
def buyer_trader(buyer: Any) -> Any:
    return partner_factories.member(buyer, "TRADER")


@pytest.fixture
def buyer_viewer(buyer: Any) -> Any:
    return partner_factories.member(buyer, "VIEWER")

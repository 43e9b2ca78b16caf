"""Fixtures of the risk tests: two approved partners of one organization (through the real
onboarding services), a partner of another organization, and staff in each role."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import UserFactory
from apps.partners.resolvers import register_resolvers
from apps.partners.tests import factories as partner_factories


@pytest.fixture(autouse=True)
def _partner_resolvers() -> None:
    register_resolvers()


def staff(organization: Any, role: str) -> Any:
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def buyer(organization: Any) -> Any:
    return partner_factories.approved_partner(
        organization,
        legal_name="Coimbatore Spinning Mills Limited",
        contact_email="accounts@coimbatoremills.example",
        contact_phone="+919800000101",
        bank_account_number="100000000101",
    )


@pytest.fixture
def seller(organization: Any) -> Any:
    return partner_factories.approved_partner(
        organization,
        legal_name="Shree Rajkot Ginning Private Limited",
        contact_email="office@shreerajkot.example",
        contact_phone="+919800000202",
        bank_account_number="100000000202",
    )


@pytest.fixture
def foreign_partner(other_organization: Any) -> Any:
    return partner_factories.approved_partner(other_organization)


@pytest.fixture
def risk_officer(organization: Any) -> Any:
    return staff(organization, Role.RISK_OFFICER)


@pytest.fixture
def second_risk_officer(organization: Any) -> Any:
    return staff(organization, Role.RISK_OFFICER)


@pytest.fixture
def org_admin(organization: Any) -> Any:
    return staff(organization, Role.ORGANIZATION_ADMIN)


@pytest.fixture
def desk_manager(organization: Any) -> Any:
    return staff(organization, Role.DESK_MANAGER)


@pytest.fixture
def other_org_risk_officer(other_organization: Any) -> Any:
    return staff(other_organization, Role.RISK_OFFICER)

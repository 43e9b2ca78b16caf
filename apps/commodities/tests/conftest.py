from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.commodities.tests import factories


@pytest.fixture
def units(db: Any) -> dict[str, Any]:
    return factories.units()


@pytest.fixture
def cotton(db: Any) -> Any:
    return factories.cotton()


@pytest.fixture
def schedule_v1(cotton: Any) -> Any:
    """The exchange-style schedule, version 1, active; fetched with its rules and parameters."""
    from apps.commodities.selectors import schedule_get

    schedule = factories.exchange_schedule(cotton)
    return schedule_get(commodity_id=cotton.id, schedule_id=schedule.id)


@pytest.fixture
def platform_admin(db: Any) -> Any:
    """A platform admin by role (not a superuser): holds exactly the role's capabilities."""
    user = SuperAdminFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=Role.PLATFORM_ADMIN))
    return user


@pytest.fixture
def staff(organization: Any) -> Any:
    return UserFactory(organization=organization)


@pytest.fixture
def organization_admin(organization: Any) -> Any:
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    return user


@pytest.fixture
def partner_user(organization: Any) -> Any:
    return ExternalUserFactory(organization=organization)

"""Users for the permission matrix and a registry of test referrers."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.locations import references


@pytest.fixture
def platform_admin(db):
    """A SUPER_ADMIN whose capabilities come from the platform admin role only (not is_superuser)."""
    user = SuperAdminFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=Role.PLATFORM_ADMIN))
    return user


@pytest.fixture
def staff_without_capability(organization):
    """An organization admin: staff with a role, but no locations capability."""
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    return user


@pytest.fixture
def partner_user(organization):
    return ExternalUserFactory(organization=organization)


class TestReferrer:
    """A stand-in for a later app (partner branches ...): counts it reports per location id."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: dict[UUID, int] = {}
        self.calls: list[UUID] = []

    def __call__(self, location_id: UUID) -> int:
        self.calls.append(location_id)
        return self.counts.get(location_id, 0)


@pytest.fixture
def register_referrer() -> Iterator:
    registered: list[str] = []

    def _register(name: str) -> TestReferrer:
        referrer = TestReferrer(name)
        references.register_location_reference(name, referrer)
        registered.append(name)
        return referrer

    yield _register
    for name in registered:
        references.unregister_location_reference(name)

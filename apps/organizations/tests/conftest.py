from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import UserFactory
from apps.organizations.tests.factories import gstin_for

# The factories' PAN is AABCT1234F; these GSTINs carry it with correct check characters.
GSTIN_MH = gstin_for(state_code="27")  # 27AABCT1234F1ZQ
GSTIN_GJ = gstin_for(state_code="24")
GSTIN_KA = gstin_for(state_code="29")


def with_role(user: Any, role: str) -> Any:
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def org_admin(organization: Any) -> Any:
    """Staff of `organization` with the organization_admin role."""
    return with_role(UserFactory(organization=organization), Role.ORGANIZATION_ADMIN)

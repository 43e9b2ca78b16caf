"""`manage.py seed_demo` creates the demo organizations and logins, and is safe to run again."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from apps.accounts.models import User, UserType
from apps.accounts.roles import STAFF_ROLES, Role
from apps.organizations.models import Organization

pytestmark = pytest.mark.django_db

PLATFORM_ADMIN = "admin@cotton-erp.test"


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "organizations": Organization.objects.count(),
        "super_admins": User.objects.filter(user_type=UserType.SUPER_ADMIN).count(),
        "staff": User.objects.filter(user_type=UserType.INTERNAL).count(),
        "external": User.objects.filter(user_type=UserType.EXTERNAL).count(),
    }


def test_seeding_twice_gives_the_same_rows():
    # external: the demo applicant, 12 partner owners, 4 of their employees, 3 applicants in the queue.
    expected = {"organizations": 2, "super_admins": 1, "staff": 8, "external": 20}

    seed()
    first_ids = set(User.objects.values_list("id", flat=True)) | set(Organization.objects.values_list("id", flat=True))
    first = counts()
    seed()
    second_ids = set(User.objects.values_list("id", flat=True)) | set(Organization.objects.values_list("id", flat=True))

    assert first == expected
    assert counts() == expected
    assert second_ids == first_ids


def test_the_demo_organizations_are_sch_and_dft():
    seed()

    assert sorted(Organization.objects.values_list("code", "name")) == [
        ("DFT", "Deccan Fibre Traders"),
        ("SCH", "Saurashtra Cotton House"),
    ]


def test_every_staff_role_of_each_organization_has_a_login():
    seed()

    for code in ("SCH", "DFT"):
        for role in STAFF_ROLES:
            user = User.objects.get(email=f"{role.replace('_', '.')}@{code.lower()}.cotton-erp.test")
            assert (user.user_type, user.organization.code, user.is_staff) == (UserType.INTERNAL, code, True)
            assert list(user.groups.values_list("name", flat=True)) == [role]


def test_the_platform_admin_and_the_applicant_are_seeded():
    seed()

    admin = User.objects.get(email=PLATFORM_ADMIN)
    assert (admin.user_type, admin.organization, admin.is_superuser) == (UserType.SUPER_ADMIN, None, True)
    assert list(admin.groups.values_list("name", flat=True)) == [Role.PLATFORM_ADMIN]
    applicant = User.objects.get(mobile="+919800000001")
    assert (applicant.user_type, applicant.organization.code, applicant.has_usable_password()) == (
        UserType.EXTERNAL,
        "SCH",
        False,
    )


def test_the_output_lists_the_demo_logins(settings):
    output = seed()

    assert "seeded: organizations" in output
    assert "seeded: accounts" in output
    assert "Demo logins" in output
    # One row per login, in aligned columns: the e-mail, then its password (any padding).
    assert re.search(rf"{re.escape(PLATFORM_ADMIN)}\s+password {re.escape(settings.DEMO_PASSWORD)}\n", output)
    assert "organization.admin@sch.cotton-erp.test" in output
    assert "risk.officer@dft.cotton-erp.test" in output
    assert "+919800000001" in output


def test_the_output_is_the_same_on_every_run():
    assert seed() == seed()


def test_the_platform_admin_can_sign_in_with_the_demo_password(api_client, settings):
    seed()
    seed()

    response = api_client.post(
        "/api/v1/auth/token", {"email": PLATFORM_ADMIN, "password": settings.DEMO_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200
    assert me.json()["user"]["email"] == PLATFORM_ADMIN


def test_an_organization_admin_can_sign_in_with_the_demo_password(api_client, settings):
    seed()

    response = api_client.post(
        "/api/v1/auth/token",
        {"email": "organization.admin@sch.cotton-erp.test", "password": settings.DEMO_PASSWORD},
        format="json",
    )

    assert response.status_code == 200

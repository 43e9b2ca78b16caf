"""Roles are Django groups created by migration and kept in sync with the permissions each app registers (roles.role_permissions());
/me lists a user's roles and effective capabilities."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.roles import role_permissions, sync_roles
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL_ROLES = [
    "desk_manager",
    "kyc_officer",
    "organization_admin",
    "partner_owner",
    "partner_trader",
    "partner_viewer",
    "platform_admin",
    "risk_officer",
]


# What a KYC officer may do today: read users, the dev SMS inbox, its organization's settings and
# partners; review onboarding applications and documents; renew KYC.
KYC_OFFICER_CAPABILITIES = [
    "accounts.view_smsmessage",
    "accounts.view_user",
    "matching.view_matchproposal",
    "organizations.view_bankaccount",
    "organizations.view_documentseries",
    "organizations.view_financialyear",
    "organizations.view_gstregistration",
    "organizations.view_organization",
    "partners.change_onboardingapplication",
    "partners.change_partnerdocument",
    "partners.renew_kyc",
    "partners.view_branch",
    "partners.view_businesspartner",
    "partners.view_corporategroup",
    "partners.view_onboardingapplication",
    "partners.view_partneramendment",
    "partners.view_partnerdocument",
    "partners.view_partnermembership",
    "partners.view_vehicle",
]
RISK_OFFICER_ONLY = [
    "matching.view_matchingsettings",
    "matching.view_matchingweights",
    "partners.change_partner_status",
    "partners.override_capabilities",
    "risk.approve_credit_limit",
    "risk.change_creditaccount",
    "risk.change_risksettings",
    "risk.set_credit_limit",
    "risk.view_assessment",
    "risk.view_creditaccount",
    "risk.view_exposurealert",
    "risk.view_exposureentry",
    "risk.view_limitchange",
    "risk.view_risksettings",
    "tradedesk.view_availability",
    "tradedesk.view_requirement",
    "tradedesk.view_reservation",
    "trades.view_negotiation",
    "trades.view_trade",
    "trades.view_tradeamendment",
]


def _permissions_by_group():
    return {
        group.name: sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


def _existing(perms):
    """The listed permissions that an installed app defines (the others are attached when it migrates)."""
    return sorted(
        dotted
        for dotted in perms
        if Permission.objects.filter(
            content_type__app_label=dotted.split(".")[0], codename=dotted.split(".")[1]
        ).exists()
    )


def test_after_migrations_the_eight_roles_exist():
    assert sorted(Group.objects.values_list("name", flat=True)) == ALL_ROLES


def test_each_role_holds_exactly_the_permissions_of_its_table_that_exist():
    granted = _permissions_by_group()

    assert granted["kyc_officer"] == KYC_OFFICER_CAPABILITIES
    assert granted["partner_owner"] == ["organizations.view_organization"]
    for role, wanted in role_permissions().items():
        assert granted[role] == _existing(wanted), role


def test_me_lists_the_role_and_its_capabilities(authenticate):
    officer = UserFactory()
    officer.groups.add(Group.objects.get(name="kyc_officer"))

    response = authenticate(officer).get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert body["roles"] == ["kyc_officer"]
    assert body["capabilities"] == KYC_OFFICER_CAPABILITIES


def test_capabilities_are_the_union_of_every_role_without_duplicates(authenticate):
    officer = UserFactory()
    officer.groups.add(Group.objects.get(name="kyc_officer"), Group.objects.get(name="risk_officer"))

    body = authenticate(officer).get("/api/v1/me").json()

    assert body["roles"] == ["kyc_officer", "risk_officer"]
    assert body["capabilities"] == sorted(KYC_OFFICER_CAPABILITIES + RISK_OFFICER_ONLY)


def test_a_user_without_roles_has_no_capabilities(authenticate):
    body = authenticate(ExternalUserFactory()).get("/api/v1/me").json()

    assert (body["roles"], body["capabilities"]) == ([], [])


def test_sync_roles_twice_changes_nothing():
    before = _permissions_by_group()
    group_ids = sorted(Group.objects.values_list("pk", flat=True))

    first = sync_roles()
    second = sync_roles()

    assert first == second == {role: len(_existing(perms)) for role, perms in role_permissions().items()}
    assert sorted(Group.objects.values_list("pk", flat=True)) == group_ids
    assert _permissions_by_group() == before


def test_sync_roles_restores_a_permission_removed_by_hand():
    officer = Group.objects.get(name="kyc_officer")
    officer.permissions.clear()

    sync_roles()

    assert _permissions_by_group()["kyc_officer"] == KYC_OFFICER_CAPABILITIES

"""The back office: branded, tenant-scoped for organization staff, with the dev SMS inbox, and
locked by django-axes after five failed logins of one account."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.models import SmsMessage, User
from apps.accounts.roles import Role
from apps.accounts.sms import InboxSmsBackend
from apps.accounts.tests.factories import DEFAULT_PASSWORD, ExternalUserFactory, SuperAdminFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
USERS = "/admin/accounts/user/"


def admin_login(client: Client, email: str, password: str = DEFAULT_PASSWORD):
    """Log in through the admin form, as a person would (django-axes sees the request)."""
    return client.post(LOGIN, {"username": email, "password": password, "next": "/admin/"})


def listed(response) -> set[User]:
    return set(response.context["cl"].result_list)


def organization_admin(organization) -> User:
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    return user


def test_the_login_page_is_branded_cotton_erp_back_office(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert "<title>Log in | Cotton ERP back office</title>" in response.content.decode()


def test_a_platform_admin_logs_in_through_the_form(client):
    admin = SuperAdminFactory()

    response = admin_login(client, admin.email)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(admin.pk)


def test_a_platform_admin_sees_every_user_with_type_organization_and_partner_columns(
    client, organization, other_organization
):
    admin = SuperAdminFactory()
    staff, partner_user = UserFactory(organization=organization), ExternalUserFactory(organization=other_organization)
    admin_login(client, admin.email)

    response = client.get(USERS)

    assert response.status_code == 200
    html = response.content.decode()
    for column in ("column-user_type", "column-organization", "column-partner"):
        assert column in html
    assert listed(response) == {admin, staff, partner_user}


def test_a_platform_admin_can_filter_users_by_type(client, organization):
    admin = SuperAdminFactory()
    UserFactory(organization=organization)
    applicants = {ExternalUserFactory(organization=organization), ExternalUserFactory(organization=organization)}
    admin_login(client, admin.email)

    response = client.get(USERS, {"user_type__exact": "EXTERNAL"})

    assert response.status_code == 200
    assert listed(response) == applicants


def test_organization_staff_see_only_their_organizations_users(client, organization, other_organization):
    me = organization_admin(organization)
    colleague = UserFactory(organization=organization)
    applicant = ExternalUserFactory(organization=organization)
    UserFactory(organization=other_organization)
    ExternalUserFactory(organization=other_organization)
    SuperAdminFactory()
    admin_login(client, me.email)

    response = client.get(USERS)

    assert response.status_code == 200
    assert listed(response) == {me, colleague, applicant}


def test_organization_staff_cannot_open_another_organizations_user(client, organization, other_organization):
    me = organization_admin(organization)
    stranger = UserFactory(organization=other_organization)
    admin_login(client, me.email)

    response = client.get(f"{USERS}{stranger.pk}/change/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_dev_sms_inbox_lists_what_the_offline_backend_sent(client):
    admin = SuperAdminFactory()
    InboxSmsBackend().send(to="+919876543210", body="482913 is your Cotton ERP sign-in code.")
    admin_login(client, admin.email)

    response = client.get("/admin/accounts/smsmessage/")

    assert response.status_code == 200
    message = SmsMessage.objects.get(to="+919876543210")
    assert listed(response) == {message}
    html = response.content.decode()
    assert "+919876543210" in html
    assert "482913 is your Cotton ERP sign-in code." in html


def test_five_failed_logins_lock_the_account_even_with_the_right_password(client):
    staff = UserFactory()
    for _ in range(5):
        admin_login(client, staff.email, "Wrong-Pass1")

    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_do_not_lock_the_account(client):
    staff = UserFactory()
    for _ in range(4):
        failed = admin_login(client, staff.email, "Wrong-Pass1")
        assert failed.status_code == 200

    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_a_locked_account_does_not_lock_others_behind_the_same_address(client):
    locked, colleague = UserFactory(), UserFactory()
    for _ in range(5):
        admin_login(client, locked.email, "Wrong-Pass1")

    response = admin_login(Client(), colleague.email, DEFAULT_PASSWORD)

    assert response.status_code == 302


# --- organization staff cannot escape their tenant or grant platform powers ------------------------


def _change_form_data(user: User, **overrides) -> dict:
    data = {
        "email": user.email,
        "mobile": user.mobile or "",
        "full_name": user.full_name,
        "user_type": user.user_type,
        "organization": str(user.organization_id),
        "is_active": "on",
        "is_verified": "on",
        "is_staff": "on",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
        "user_permissions": [],
    }
    data.update(overrides)
    return data


def test_organization_staff_cannot_make_anyone_a_superuser(client, organization):
    me = organization_admin(organization)
    admin_login(client, me.email)

    response = client.post(f"{USERS}{me.pk}/change/", _change_form_data(me, is_superuser="on", full_name="Me"))

    assert response.status_code == 302
    me.refresh_from_db()
    assert me.full_name == "Me"
    assert me.is_superuser is False


def test_organization_staff_cannot_move_a_user_to_another_organization(client, organization, other_organization):
    me = organization_admin(organization)
    colleague = UserFactory(organization=organization)
    admin_login(client, me.email)

    response = client.post(
        f"{USERS}{colleague.pk}/change/", _change_form_data(colleague, organization=str(other_organization.pk))
    )

    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    colleague.refresh_from_db()
    assert colleague.organization_id == organization.pk


def test_organization_staff_cannot_grant_the_platform_admin_role(client, organization):
    me = organization_admin(organization)
    platform_admin = Group.objects.get(name=Role.PLATFORM_ADMIN)
    admin_login(client, me.email)

    response = client.post(
        f"{USERS}{me.pk}/change/",
        _change_form_data(me, groups=[str(platform_admin.pk), *_change_form_data(me)["groups"]]),
    )

    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    assert set(me.groups.values_list("name", flat=True)) == {Role.ORGANIZATION_ADMIN}


def test_organization_staff_add_users_only_to_their_organization_and_never_as_platform_admins(
    client, organization, other_organization
):
    me = organization_admin(organization)
    admin_login(client, me.email)

    form = client.get(f"{USERS}add/").context["adminform"].form

    assert [value for value, _ in form.fields["user_type"].choices] == ["INTERNAL", "EXTERNAL"]
    assert list(form.fields["organization"].queryset) == [organization]


def test_a_platform_admin_keeps_every_field_and_choice(client, organization, other_organization):
    admin = SuperAdminFactory()
    staff = UserFactory(organization=organization)
    admin_login(client, admin.email)

    change_form = client.get(f"{USERS}{staff.pk}/change/").context["adminform"].form
    add_form = client.get(f"{USERS}add/").context["adminform"].form

    assert {"is_superuser", "user_permissions", "groups", "organization", "user_type"} <= set(change_form.fields)
    assert Group.objects.get(name=Role.PLATFORM_ADMIN) in change_form.fields["groups"].queryset
    assert {"SUPER_ADMIN", "INTERNAL", "EXTERNAL"} <= {value for value, _ in add_form.fields["user_type"].choices}
    assert {organization, other_organization} <= set(add_form.fields["organization"].queryset)


def test_organization_staff_do_not_see_other_organizations_in_the_user_filter(client, organization, other_organization):
    me = organization_admin(organization)
    UserFactory(organization=other_organization)
    admin_login(client, me.email)

    response = client.get(USERS)

    html = response.content.decode()
    assert organization.name in html
    assert other_organization.name not in html


def test_organization_staff_read_only_their_organizations_messages_in_the_sms_inbox(
    client, organization, other_organization
):
    me = UserFactory(organization=organization)
    me.groups.add(Group.objects.get(name=Role.KYC_OFFICER))
    ExternalUserFactory(organization=organization, mobile="+919811111111")
    ExternalUserFactory(organization=other_organization, mobile="+919822222222")
    backend = InboxSmsBackend()
    backend.send(to="+919811111111", body="111111 is your Cotton ERP sign-in code.")
    backend.send(to="+919822222222", body="222222 is your Cotton ERP sign-in code.")
    admin_login(client, me.email)

    response = client.get("/admin/accounts/smsmessage/")

    assert response.status_code == 200
    assert listed(response) == {SmsMessage.objects.get(to="+919811111111")}
    assert "222222" not in response.content.decode()


def test_organization_staff_see_the_codes_sent_to_their_new_applicants(client, api_client, organization):
    me = UserFactory(organization=organization)
    me.groups.add(Group.objects.get(name=Role.KYC_OFFICER))
    api_client.post(
        "/api/v1/auth/otp/request", {"mobile": "+919833333333", "organization_code": organization.code}, format="json"
    )
    admin_login(client, me.email)

    response = client.get("/admin/accounts/smsmessage/")

    assert listed(response) == {SmsMessage.objects.get(to="+919833333333")}


def test_a_successful_login_resets_the_failure_count(client):
    staff = UserFactory()
    for _ in range(4):
        admin_login(client, staff.email, "Wrong-Pass1")
    admin_login(client, staff.email, DEFAULT_PASSWORD)
    client.logout()
    for _ in range(4):
        admin_login(client, staff.email, "Wrong-Pass1")

    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 302

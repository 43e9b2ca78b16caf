"""Audit history (django-pghistory): every insert and change of a user or an organization leaves
a snapshot whose context names the acting user and the request id; the password hash never does;
the admin lists an object's history."""

from __future__ import annotations

import re

import pghistory
import pytest
from django.apps import apps
from django.utils import timezone

from apps.accounts.models import SmsMessage, User
from apps.accounts.tests.factories import SuperAdminFactory, UserFactory
from apps.organizations.models import Organization
from apps.organizations.services.organizations import organization_update
from apps.organizations.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

OrganizationEvent = apps.get_model("organizations", "OrganizationEvent")
UserEvent = apps.get_model("accounts", "UserEvent")


def test_a_service_write_inside_a_context_records_the_actor_and_request_id():
    organization = OrganizationFactory(name="Saurashtra Cotton House")
    actor = UserFactory(organization=organization, is_superuser=True)  # the service checks rights

    with pghistory.context(user=str(actor.pk), request_id="audit-service-0001"):
        organization_update(organization_id=organization.id, actor=actor, name="Saurashtra Cotton Traders")

    event = OrganizationEvent.objects.get(pgh_obj=organization, pgh_label="update")
    assert event.name == "Saurashtra Cotton Traders"
    assert event.pgh_context.metadata == {"user": str(actor.pk), "request_id": "audit-service-0001"}


def test_insert_and_update_are_snapshotted_and_a_save_without_changes_is_not():
    organization = OrganizationFactory(name="Deccan Fibre")

    organization_update(organization_id=organization.id, name="Deccan Fibre Traders")
    organization_update(organization_id=organization.id, name="Deccan Fibre Traders")  # no change
    Organization.objects.filter(pk=organization.pk).update(updated_at=timezone.now())  # only the timestamp

    history = list(
        OrganizationEvent.objects.filter(pgh_obj=organization).order_by("pgh_id").values_list("pgh_label", "name")
    )
    assert history == [("insert", "Deccan Fibre"), ("update", "Deccan Fibre Traders")]


@pytest.mark.urls("apps.core.tests.urls_idempotency")
def test_an_api_write_with_a_bearer_token_records_the_user_and_the_request_id(authenticate):
    actor = UserFactory()

    response = authenticate(actor).post(
        "/api/v1/test/organizations",
        {"code": "AUDIT-1", "name": "Audited House"},
        format="json",
        HTTP_X_REQUEST_ID="audit-http-0001",
    )

    assert response.status_code == 201
    event = OrganizationEvent.objects.get(pgh_obj_id=response.json()["id"], pgh_label="insert")
    assert event.pgh_context.metadata == {
        "user": str(actor.pk),
        "url": "/api/v1/test/organizations",
        "request_id": "audit-http-0001",
    }


def test_a_write_through_the_real_api_records_the_user_and_the_request_id(authenticate):
    actor = UserFactory()

    response = authenticate(actor).post(
        "/api/v1/auth/logout", {"all": True}, format="json", HTTP_X_REQUEST_ID="audit-logout-0001"
    )

    assert response.status_code == 200
    event = UserEvent.objects.get(pgh_obj=actor, pgh_label="update")
    assert event.tokens_valid_after is not None
    assert event.pgh_context.metadata == {
        "user": str(actor.pk),
        "url": "/api/v1/auth/logout",
        "request_id": "audit-logout-0001",
    }


def test_an_anonymous_api_write_records_the_request_id_and_no_user(api_client, organization):
    sent = api_client.post(
        "/api/v1/auth/otp/request", {"mobile": "+919800000123", "organization_code": organization.code}, format="json"
    )
    assert sent.status_code == 202
    code = _last_otp_code("+919800000123")

    response = api_client.post(
        "/api/v1/auth/otp/verify",
        {"mobile": "+919800000123", "code": code},
        format="json",
        HTTP_X_REQUEST_ID="audit-otp-0001",
    )

    assert response.status_code == 200
    assert response.json()["created"] is True
    user = User.objects.get(mobile="+919800000123")
    event = UserEvent.objects.get(pgh_obj=user, pgh_label="insert")
    assert event.pgh_context.metadata == {
        "user": None,
        "url": "/api/v1/auth/otp/verify",
        "request_id": "audit-otp-0001",
    }


def _last_otp_code(mobile: str) -> str:
    """The code the dev SMS inbox (the default backend in tests) received."""
    body = SmsMessage.objects.filter(to=mobile).order_by("-created_at").values_list("body", flat=True).first()
    match = re.search(r"\b(\d{6})\b", body or "")
    assert match, f"no code in the dev inbox for {mobile}: {body!r}"
    return match.group(1)


def test_the_password_hash_and_last_login_are_not_in_the_user_history():
    user = UserFactory()
    user.set_password("Another-Pass2")
    user.save()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())

    tracked = {field.name for field in UserEvent._meta.fields}
    assert "password" not in tracked
    assert "last_login" not in tracked
    snapshots = list(UserEvent.objects.filter(pgh_obj=user).values())
    assert [s["pgh_label"] for s in snapshots] == ["insert"]  # neither change is a tracked one
    assert all(user.password not in map(str, s.values()) for s in snapshots)


def test_the_admin_lists_the_history_of_an_organization(client):
    organization = OrganizationFactory(name="Khandesh Ginning")
    organization_update(organization_id=organization.id, name="Khandesh Ginning Mills")
    client.force_login(SuperAdminFactory())

    change_page = client.get(f"/admin/organizations/organization/{organization.pk}/change/")
    history_url = f"/admin/pghistory/events/?method=tracks&obj=organizations.Organization:{organization.pk}"
    history = client.get(history_url)

    assert change_page.status_code == 200
    assert history_url in change_page.content.decode()  # the "Events" link pghistory.admin adds
    assert history.status_code == 200
    page = history.content.decode()
    assert "Khandesh Ginning Mills" in page
    assert history.context["cl"].result_count == 2  # insert, update


def test_the_admin_links_a_user_to_its_history(client):
    user = UserFactory(full_name="Asha Patel")
    client.force_login(SuperAdminFactory())

    change_page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    history = client.get(f"/admin/pghistory/events/?method=tracks&obj=accounts.User:{user.pk}")

    assert change_page.status_code == 200
    assert f"/admin/pghistory/events/?method=tracks&obj=accounts.User:{user.pk}" in change_page.content.decode()
    assert history.status_code == 200
    assert history.context["cl"].result_count == 1  # insert
    assert "Asha Patel" in history.content.decode()

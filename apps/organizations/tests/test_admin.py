"""The organization admin: tenant-scoped, master data as inlines saved through the services, bank
account numbers masked."""

from __future__ import annotations

import datetime

import pytest

from apps.accounts.roles import Role
from apps.accounts.tests.factories import UserFactory
from apps.events.models import OutboxEvent
from apps.organizations.models import BankAccount, FinancialYear, GstRegistration
from apps.organizations.services.bank_accounts import bank_account_create
from apps.organizations.services.financial_years import financial_year_create
from apps.organizations.services.gst_registrations import gst_registration_create
from apps.organizations.tests.conftest import GSTIN_GJ, GSTIN_MH, with_role

pytestmark = pytest.mark.django_db

RAW_ACCOUNT = "38201234567"


def change_url(organization) -> str:
    return f"/admin/organizations/organization/{organization.pk}/change/"


def _value(value) -> str | None:
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def form_data(response) -> dict[str, str]:
    """The change form as the browser would post it back unchanged."""
    data: dict[str, str] = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = _value(form[name].value())
            if value is not None:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for form in formset.forms:
            add(form)
    return data


def add_row(data: dict[str, str], prefix: str, **fields: str) -> None:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        data[f"{prefix}-{index}-{name}"] = value


@pytest.fixture
def admin_client(client, org_admin):
    client.force_login(org_admin)
    return client


def test_the_change_page_shows_the_inlines_with_the_account_number_masked(admin_client, organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    bank_account_create(
        organization_id=organization.id,
        holder_name="H",
        bank_name="SBI",
        account_number=RAW_ACCOUNT,
        ifsc="SBIN0000452",
    )

    response = admin_client.get(change_url(organization))

    assert response.status_code == 200
    html = response.content.decode()
    assert [i.formset.prefix for i in response.context["inline_admin_formsets"]] == [
        "gst_registrations",
        "bank_accounts",
        "financial_years",
        "document_series",
    ]
    assert "***4567" in html
    assert RAW_ACCOUNT not in html
    assert GSTIN_MH in html


def test_staff_cannot_open_another_organizations_page(admin_client, other_organization):
    response = admin_client.get(change_url(other_organization))

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert not GstRegistration.objects.exists()


def test_inline_rows_are_saved_through_the_services(admin_client, organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    data = form_data(admin_client.get(change_url(organization)))
    add_row(data, "gst_registrations", gstin=GSTIN_GJ.lower(), is_primary="on", is_active="on")
    add_row(
        data,
        "bank_accounts",
        holder_name="Trading House",
        bank_name="SBI",
        new_account_number=RAW_ACCOUNT,
        ifsc="SBIN0000452",
        is_active="on",
    )
    add_row(data, "financial_years", start_date="2026-04-01", end_date="2027-03-31")

    response = admin_client.post(change_url(organization), data)

    assert response.status_code == 302, [
        (i.formset.prefix, i.formset.errors) for i in response.context["inline_admin_formsets"]
    ] + [response.context["adminform"].form.errors]
    assert sorted(GstRegistration.objects.values_list("gstin", "is_primary")) == [(GSTIN_GJ, True), (GSTIN_MH, False)]
    account = BankAccount.objects.get()
    assert (account.account_number, account.is_default) == (RAW_ACCOUNT, True)
    year = FinancialYear.objects.get()
    assert (year.label, year.is_active) == ("2026-27", True)
    assert set(OutboxEvent.objects.values_list("type", flat=True)) >= {
        "organizations.gst_registration.created",
        "organizations.gst_registration.updated",
        "organizations.bank_account.created",
        "organizations.financial_year.created",
    }


def test_an_invalid_gstin_in_an_inline_is_a_form_error_and_nothing_is_saved(admin_client, organization):
    data = form_data(admin_client.get(change_url(organization)))
    add_row(data, "gst_registrations", gstin="27AABCT1234F1ZA", is_active="on")

    response = admin_client.post(change_url(organization), data)

    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    assert not GstRegistration.objects.exists()


def test_a_refusal_of_a_service_is_reported_as_an_error_message(admin_client, organization):
    financial_year_create(organization_id=organization.id, start_date=datetime.date(2026, 4, 1))
    data = form_data(admin_client.get(change_url(organization)))
    add_row(data, "financial_years", start_date="2026-10-01", end_date="2027-09-30")

    response = admin_client.post(change_url(organization), data, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert "Financial year: The year overlaps financial year 2026-27 (2026-04-01 to 2027-03-31)." in messages
    assert FinancialYear.objects.count() == 1


def test_view_only_staff_see_the_inlines_read_only(client, organization):
    desk_manager = with_role(UserFactory(organization=organization), Role.DESK_MANAGER)
    bank_account_create(
        organization_id=organization.id,
        holder_name="H",
        bank_name="SBI",
        account_number=RAW_ACCOUNT,
        ifsc="SBIN0000452",
    )
    client.force_login(desk_manager)

    response = client.get(change_url(organization))

    assert response.status_code == 200
    assert RAW_ACCOUNT not in response.content.decode()
    assert all(not inline.has_add_permission for inline in response.context["inline_admin_formsets"])


def test_a_platform_admin_adds_an_organization_with_its_first_gstin(client):
    from apps.accounts.tests.factories import SuperAdminFactory
    from apps.organizations.models import Organization

    client.force_login(SuperAdminFactory())
    data = form_data(client.get("/admin/organizations/organization/add/"))
    data.update({"code": "NEW", "name": "New Cotton Co", "pan": "aapfu0939f", "base_currency": "INR", "settings": "{}"})
    add_row(data, "gst_registrations", gstin="27AAPFU0939F1ZV", is_active="on")

    response = client.post("/admin/organizations/organization/add/", data)

    assert response.status_code == 302, [
        (i.formset.prefix, i.formset.errors) for i in response.context["inline_admin_formsets"]
    ] + [response.context["adminform"].form.errors]
    organization = Organization.objects.get(code="NEW")
    assert organization.pan == "AAPFU0939F"
    registration = GstRegistration.objects.get()
    assert (registration.organization_id, registration.is_primary, registration.state) == (organization.id, True, "MH")
    assert list(OutboxEvent.objects.order_by("position").values_list("type", flat=True)) == [
        "organizations.organization.created",
        "organizations.gst_registration.created",
    ]

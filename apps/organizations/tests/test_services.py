"""The one-per-organization flags (primary GSTIN, default bank account, active financial year) move
atomically under the services, and the database refuses a second holder written directly."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import IntegrityError, transaction

from apps.events.models import OutboxEvent
from apps.organizations.errors import (
    DefaultBankAccountRequired,
    FieldInvalid,
    PrimaryGstRegistrationRequired,
)
from apps.organizations.models import BankAccount, FinancialYear, GstRegistration, Organization
from apps.organizations.services import (
    bank_account_create,
    bank_account_update,
    gst_registration_create,
    gst_registration_update,
    organization_update,
)
from apps.organizations.tests.conftest import GSTIN_GJ, GSTIN_KA, GSTIN_MH
from apps.organizations.tests.factories import (
    BankAccountFactory,
    FinancialYearFactory,
    GstRegistrationFactory,
    OrganizationFactory,
    gstin_for,
)

pytestmark = pytest.mark.django_db


def primaries(organization) -> list[str]:
    return list(
        GstRegistration.objects.filter(organization=organization, is_primary=True).values_list("gstin", flat=True)
    )


def defaults(organization) -> list[str]:
    return list(
        BankAccount.objects.filter(organization=organization, is_default=True).values_list("account_number", flat=True)
    )


def rows(model, organization) -> list[dict]:
    return list(model.objects.filter(organization=organization).order_by("created_at").values())


# --- GST registrations ------------------------------------------------------------------------------


def test_the_first_gst_registration_is_primary_and_gets_its_state_from_the_gstin(organization):
    registration = gst_registration_create(organization_id=organization.id, gstin=" 27aabct1234f1zq ")

    assert (registration.gstin, registration.state, registration.is_primary, registration.is_active) == (
        "27AABCT1234F1ZQ",
        "MH",
        True,
        True,
    )


def test_a_second_registration_is_not_primary_unless_asked(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    second = gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)

    assert (second.state, second.is_primary) == ("GJ", False)
    assert primaries(organization) == [GSTIN_MH]


def test_creating_a_primary_registration_moves_the_flag(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ, is_primary=True)

    assert primaries(organization) == [GSTIN_GJ]


def test_making_a_registration_primary_moves_the_flag_and_emits_for_both(organization):
    first = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    second = gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)
    OutboxEvent.objects.all().delete()

    gst_registration_update(organization_id=organization.id, gst_registration_id=second.id, is_primary=True)

    assert primaries(organization) == [GSTIN_GJ]
    updated = OutboxEvent.objects.filter(type="organizations.gst_registration.updated").order_by("position")
    assert [(e.aggregate_id, e.payload["changed"]) for e in updated] == [
        (str(first.id), {"is_primary": [True, False]}),
        (str(second.id), {"is_primary": [False, True]}),
    ]


def test_the_primary_cannot_simply_stop_being_primary(organization):
    first = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)
    before = rows(GstRegistration, organization)

    with pytest.raises(PrimaryGstRegistrationRequired):
        gst_registration_update(organization_id=organization.id, gst_registration_id=first.id, is_primary=False)

    assert rows(GstRegistration, organization) == before


def test_the_primary_cannot_be_deactivated_while_others_are_active(organization):
    first = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)
    before = rows(GstRegistration, organization)

    with pytest.raises(PrimaryGstRegistrationRequired) as caught:
        gst_registration_update(organization_id=organization.id, gst_registration_id=first.id, is_active=False)

    assert (caught.value.code, caught.value.status) == ("primary_gst_registration_required", 409)
    assert rows(GstRegistration, organization) == before


def test_the_last_active_registration_may_be_deactivated_and_takes_the_flag_back_when_reactivated(organization):
    only = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    gst_registration_update(organization_id=organization.id, gst_registration_id=only.id, is_active=False)
    assert primaries(organization) == []

    reactivated = gst_registration_update(organization_id=organization.id, gst_registration_id=only.id, is_active=True)
    assert (reactivated.is_active, reactivated.is_primary) == (True, True)


def test_a_duplicate_gstin_is_a_field_error_and_adds_nothing(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    with pytest.raises(FieldInvalid) as caught:
        gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    assert (caught.value.attr, caught.value.reason) == ("gstin", "unique")
    assert GstRegistration.objects.filter(organization=organization).count() == 1


def test_a_gstin_needs_the_organizations_pan(organization):
    other_pan = "27AAPFU0939F1ZV"

    with pytest.raises(FieldInvalid) as caught:
        gst_registration_create(organization_id=organization.id, gstin=other_pan)

    assert (caught.value.attr, caught.value.reason) == ("gstin", "gstin_pan_mismatch")
    assert not GstRegistration.objects.exists()


def test_an_organization_without_a_pan_cannot_register_a_gstin():
    organization = OrganizationFactory(pan="")

    with pytest.raises(FieldInvalid) as caught:
        gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    assert (caught.value.attr, caught.value.reason) == ("gstin", "organization_pan_missing")


def test_the_pan_cannot_change_under_active_gst_registrations(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    with pytest.raises(FieldInvalid) as caught:
        organization_update(organization_id=organization.id, pan="AAPFU0939F")

    assert (caught.value.attr, caught.value.reason) == ("pan", "pan_in_use_by_gstin")
    organization.refresh_from_db()
    assert organization.pan == "AABCT1234F"


def test_the_database_refuses_a_second_primary_registration(organization):
    GstRegistrationFactory(organization=organization, gstin=GSTIN_MH, is_primary=True)

    with pytest.raises(IntegrityError, match="gst_registration_one_primary"), transaction.atomic():
        GstRegistrationFactory(organization=organization, gstin=GSTIN_KA, state="KA", is_primary=True)


def test_the_database_refuses_a_malformed_gstin(organization):
    with pytest.raises(IntegrityError, match="gst_registration_gstin_format"), transaction.atomic():
        GstRegistrationFactory(organization=organization, gstin="27AABCT1234F1X1")


# --- bank accounts ----------------------------------------------------------------------------------


def bank(organization, number: str, **kwargs):
    return bank_account_create(
        organization_id=organization.id,
        holder_name="Trading House Private Limited",
        bank_name="State Bank of India",
        account_number=number,
        ifsc="sbin0000452",
        **kwargs,
    )


def test_the_first_bank_account_is_the_default_and_the_ifsc_is_normalised(organization):
    account = bank(organization, "3820 1234 567")

    assert (account.account_number, account.ifsc, account.is_default) == ("38201234567", "SBIN0000452", True)
    assert account.account_number_masked == "***4567"
    assert str(account) == "State Bank of India ***4567"


def test_making_another_account_the_default_moves_the_flag(organization):
    bank(organization, "38201234567")
    second = bank(organization, "50200012345678")

    bank_account_update(organization_id=organization.id, bank_account_id=second.id, is_default=True)

    assert defaults(organization) == ["50200012345678"]


def test_the_default_account_cannot_stop_being_default_or_be_deactivated_while_others_are_active(organization):
    first = bank(organization, "38201234567")
    bank(organization, "50200012345678")
    before = rows(BankAccount, organization)

    with pytest.raises(DefaultBankAccountRequired):
        bank_account_update(organization_id=organization.id, bank_account_id=first.id, is_default=False)
    with pytest.raises(DefaultBankAccountRequired):
        bank_account_update(organization_id=organization.id, bank_account_id=first.id, is_active=False)

    assert rows(BankAccount, organization) == before


def test_an_inactive_account_cannot_become_the_default(organization):
    bank(organization, "38201234567")
    second = bank(organization, "50200012345678")
    bank_account_update(organization_id=organization.id, bank_account_id=second.id, is_active=False)

    with pytest.raises(FieldInvalid) as caught:
        bank_account_update(organization_id=organization.id, bank_account_id=second.id, is_default=True)

    assert (caught.value.attr, caught.value.reason) == ("is_default", "must_be_active")
    assert defaults(organization) == ["38201234567"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("account_number", "12345678", "invalid_account_number"),
        ("account_number", "1234567890123456789", "invalid_account_number"),
        ("ifsc", "SBIN1000452", "invalid_ifsc"),
    ],
)
def test_invalid_account_numbers_and_ifscs_are_field_errors(organization, field, value, reason):
    values = {"account_number": "38201234567", "ifsc": "SBIN0000452", field: value}

    with pytest.raises(FieldInvalid) as caught:
        bank_account_create(organization_id=organization.id, holder_name="H", bank_name="B", **values)

    assert (caught.value.attr, caught.value.reason) == (field, reason)
    assert not BankAccount.objects.exists()


def test_the_database_refuses_a_second_default_account(organization):
    BankAccountFactory(organization=organization, is_default=True)

    with pytest.raises(IntegrityError, match="bank_account_one_default"), transaction.atomic():
        BankAccountFactory(organization=organization, is_default=True)


def test_flags_of_one_organization_do_not_touch_another(organization, other_organization):
    gst_registration_create(organization_id=other_organization.id, gstin=GSTIN_MH)
    bank(other_organization, "38201234567")

    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    bank(organization, "38201234567")

    assert primaries(other_organization) == [GSTIN_MH]
    assert defaults(other_organization) == ["38201234567"]


# --- financial years: one active ---------------------------------------------------------------------


def test_the_database_refuses_a_second_active_financial_year(organization):
    FinancialYearFactory(organization=organization)

    with pytest.raises(IntegrityError, match="financial_year_one_active"), transaction.atomic():
        FinancialYearFactory(
            organization=organization,
            label="2027-28",
            start_date=datetime.date(2027, 4, 1),
            end_date=datetime.date(2028, 3, 31),
        )


def test_the_database_refuses_overlapping_financial_years(organization):
    FinancialYearFactory(organization=organization)

    with pytest.raises(IntegrityError, match="financial_year_no_overlap"), transaction.atomic():
        FinancialYearFactory(
            organization=organization,
            label="X",
            start_date=datetime.date(2027, 3, 31),  # the last day of 2026-27: both ends count
            end_date=datetime.date(2028, 3, 30),
            is_active=False,
        )


def test_the_same_dates_in_two_organizations_do_not_overlap(organization, other_organization):
    FinancialYearFactory(organization=organization)
    FinancialYearFactory(organization=other_organization)

    assert FinancialYear.objects.count() == 2


# --- organization profile ----------------------------------------------------------------------------


def test_the_profile_is_normalised_and_its_changes_are_in_the_event(organization):
    OutboxEvent.objects.all().delete()

    organization_update(
        organization_id=organization.id,
        cin="u17111gj2010ptc062345",
        address_line1="Plot 12, Cotton Market Yard",
        city="Rajkot",
        state="gj",
        pincode="360003",
        contact_email="Accounts@Example.com",
        contact_phone="98250 12345",
    )

    organization.refresh_from_db()
    assert (organization.cin, organization.state, organization.contact_email, organization.contact_phone) == (
        "U17111GJ2010PTC062345",
        "GJ",
        "accounts@example.com",
        "+919825012345",
    )
    event = OutboxEvent.objects.get()
    assert event.type == "organizations.organization.updated"
    assert event.payload["changed"]["state"] == ["", "GJ"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("pan", "AAPFU0939", "invalid_pan"),
        ("cin", "U17111GJ2010PTC06234", "invalid_cin"),
        ("state", "XX", "unknown_state"),
        ("pincode", "060003", "invalid_pincode"),
        ("contact_email", "not-an-email", "invalid_email"),
        ("contact_phone", "12345", "invalid_phone"),
        ("name", "  ", "blank"),
    ],
)
def test_invalid_profile_fields_are_refused_and_change_nothing(organization, field, value, reason):
    before = Organization.objects.filter(pk=organization.pk).values().get()

    with pytest.raises(FieldInvalid) as caught:
        organization_update(organization_id=organization.id, **{field: value})

    assert (caught.value.attr, caught.value.reason) == (field, reason)
    assert Organization.objects.filter(pk=organization.pk).values().get() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_to_be_primary_leave_exactly_one_primary(organization, run_concurrently):
    entity_numbers = iter("12345678")
    lock = threading.Lock()

    def register() -> str:
        with lock:
            entity = next(entity_numbers)
        return gst_registration_create(
            organization_id=organization.id, gstin=gstin_for(entity=entity), is_primary=True
        ).gstin

    results = run_concurrently(register, times=8)

    assert [r.error for r in results] == [None] * 8
    assert GstRegistration.objects.filter(organization=organization).count() == 8
    assert GstRegistration.objects.filter(organization=organization, is_primary=True).count() == 1
    # Every registration but the first took the flag from the one before it: one move each.
    assert OutboxEvent.objects.filter(type="organizations.gst_registration.updated").count() == 7

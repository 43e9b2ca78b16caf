"""Bank accounts: the one default moves atomically under the services, and the database refuses a second
default written directly."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.organizations.errors import (
    DefaultBankAccountRequired,
    FieldInvalid,
)
from apps.organizations.models import BankAccount, GstRegistration
from apps.organizations.services.bank_accounts import bank_account_create, bank_account_update
from apps.organizations.services.gst_registrations import gst_registration_create
from apps.organizations.tests.conftest import GSTIN_MH
from apps.organizations.tests.factories import (
    BankAccountFactory,
)

pytestmark = pytest.mark.django_db


def defaults(organization) -> list[str]:
    return list(
        BankAccount.objects.filter(organization=organization, is_default=True).values_list("account_number", flat=True)
    )


def primaries(organization) -> list[str]:
    return list(
        GstRegistration.objects.filter(organization=organization, is_primary=True).values_list("gstin", flat=True)
    )


def rows(model, organization) -> list[dict]:
    return list(model.objects.filter(organization=organization).order_by("created_at").values())


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

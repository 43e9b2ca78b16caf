"""SPEC section 2: the database itself refuses users that break the account rules, and passwords
follow Django's validators plus upper, lower and a digit."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import User, UserType
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def _insert(**fields):
    """Save straight to the database: no full_clean, so only the DB constraints decide."""
    with transaction.atomic():
        User(**fields).save()


def test_a_platform_admin_with_an_organization_is_refused(organization):
    with pytest.raises(IntegrityError, match="user_organization_matches_type"):
        _insert(user_type=UserType.SUPER_ADMIN, organization=organization, email="root@example.com")

    assert User.objects.count() == 0


@pytest.mark.parametrize("user_type", [UserType.INTERNAL, UserType.EXTERNAL])
def test_staff_and_partner_users_without_an_organization_are_refused(user_type):
    with pytest.raises(IntegrityError, match="user_organization_matches_type"):
        _insert(user_type=user_type, organization=None, email="someone@example.com")

    assert User.objects.count() == 0


def test_an_unknown_user_type_is_refused(organization):
    with pytest.raises(IntegrityError, match="user_organization_matches_type"):
        _insert(user_type="GUEST", organization=organization, email="guest@example.com")


def test_a_user_with_neither_email_nor_mobile_is_refused(organization):
    with pytest.raises(IntegrityError, match="user_has_email_or_mobile"):
        _insert(user_type=UserType.INTERNAL, organization=organization, email=None, mobile=None)

    assert User.objects.count() == 0


@pytest.mark.parametrize("mobile", ["9800000001", "+91 9800000001", "+0919800000001", "+91980", "0091980000000"])
def test_a_mobile_not_in_e164_form_is_refused(organization, mobile):
    with pytest.raises(IntegrityError, match="user_mobile_e164"):
        _insert(user_type=UserType.EXTERNAL, organization=organization, mobile=mobile)

    assert User.objects.count() == 0


def test_an_upper_case_email_is_refused(organization):
    with pytest.raises(IntegrityError, match="user_email_lowercase"):
        _insert(user_type=UserType.INTERNAL, organization=organization, email="Desk@Example.com")


def test_bulk_create_is_held_to_the_same_constraints(organization):
    valid = User(user_type=UserType.INTERNAL, organization=organization, email="ok@example.com")
    admin_in_org = User(user_type=UserType.SUPER_ADMIN, organization=organization, email="root@example.com")

    with pytest.raises(IntegrityError, match="user_organization_matches_type"), transaction.atomic():
        User.objects.bulk_create([valid, admin_in_org])

    assert User.objects.count() == 0


def test_a_mobile_belongs_to_one_user_only(organization):
    ExternalUserFactory(mobile="+919800000001")

    with pytest.raises(IntegrityError, match="accounts_user_mobile"):
        _insert(user_type=UserType.EXTERNAL, organization=organization, mobile="+919800000001")

    assert User.objects.filter(mobile="+919800000001").count() == 1


def test_an_email_belongs_to_one_user_only(organization):
    UserFactory(email="desk@example.com")

    with pytest.raises(IntegrityError, match="accounts_user_email"):
        _insert(user_type=UserType.INTERNAL, organization=organization, email="desk@example.com")

    assert User.objects.filter(email="desk@example.com").count() == 1


def test_valid_users_of_every_type_are_stored(organization):
    _insert(user_type=UserType.SUPER_ADMIN, organization=None, email="root@example.com")
    _insert(user_type=UserType.INTERNAL, organization=organization, email="desk@example.com")
    _insert(user_type=UserType.EXTERNAL, organization=organization, mobile="+919800000001")

    assert sorted(User.objects.values_list("user_type", flat=True)) == ["EXTERNAL", "INTERNAL", "SUPER_ADMIN"]


# --- passwords --------------------------------------------------------------------------------------


def _refusal_codes(password):
    with pytest.raises(ValidationError) as excinfo:
        validate_password(password)
    return sorted(error.code for error in excinfo.value.error_list)


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("password", ["password_missing_character_classes", "password_too_common"]),
        ("alllowercase1", ["password_missing_character_classes"]),
        ("ALLUPPER1", ["password_missing_character_classes"]),
        ("NoDigitsHere", ["password_missing_character_classes"]),
        ("Ab1cD2e", ["password_too_short"]),
        ("12345678", ["password_entirely_numeric", "password_missing_character_classes", "password_too_common"]),
    ],
)
def test_weak_passwords_are_refused(password, codes):
    assert _refusal_codes(password) == codes


def test_the_refusal_names_what_is_missing():
    with pytest.raises(ValidationError) as excinfo:
        validate_password("alllowercase1")

    assert excinfo.value.messages == ["The password must contain an upper-case letter."]


@pytest.mark.parametrize("password", ["Cotton-Pass1", "Kapas7Bale"])
def test_a_password_with_upper_lower_and_digit_of_eight_characters_is_accepted(password):
    assert validate_password(password) is None

"""GSTIN, PAN, CIN, IFSC and bank account number checks: pure functions with field errors."""

from __future__ import annotations

import pytest

from apps.core.india import STATES_BY_GST_CODE
from apps.organizations.errors import FieldInvalid
from apps.organizations.validators import (
    gstin_check_char,
    normalize_identifier,
    validate_bank_account_number,
    validate_cin,
    validate_gstin,
    validate_ifsc,
    validate_pan,
)


def refusal(check) -> tuple[str | None, str]:
    with pytest.raises(FieldInvalid) as caught:
        check()
    return caught.value.attr, caught.value.reason


# --- the check character ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first14", "check"),
    [
        ("27AAPFU0939F1Z", "V"),  # the GSTIN of the GST portal's own examples
        ("29AAGCB7383J1Z", "4"),
        ("24AABCS1234C1Z", "3"),
        ("36AAJFD5678K1Z", "U"),
        ("27AABCT1234F1Z", "Q"),
    ],
)
def test_the_check_character_is_the_mod_36_checksum(first14, check):
    assert gstin_check_char(first14) == check


def test_the_check_character_follows_the_formula_step_by_step():
    first14 = "27AAPFU0939F1Z"
    charset = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = 0
    for i, char in enumerate(first14):
        product = charset.index(char) * (2 if i % 2 else 1)
        total += product // 36 + product % 36

    assert gstin_check_char(first14) == charset[(36 - total % 36) % 36] == "V"


@pytest.mark.parametrize("bad", ["27AAPFU0939F1", "27AAPFU0939F1ZV", "27aapfu0939f1z", "27AAPFU0939F1-"])
def test_the_check_character_needs_exactly_14_characters_of_the_charset(bad):
    with pytest.raises(ValueError, match="first 14 characters"):
        gstin_check_char(bad)


# --- validate_gstin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gstin", "state_code", "state_name"),
    [
        ("27AAPFU0939F1ZV", "MH", "Maharashtra"),
        ("29AAGCB7383J1Z4", "KA", "Karnataka"),
        ("24AABCS1234C1Z3", "GJ", "Gujarat"),
        ("36AAJFD5678K1ZU", "TS", "Telangana"),
    ],
)
def test_valid_gstins_give_their_state(gstin, state_code, state_name):
    state = validate_gstin(gstin)

    assert (state.code, state.name) == (state_code, state_name)


def test_a_valid_gstin_with_the_matching_pan_passes():
    assert validate_gstin("27AAPFU0939F1ZV", pan="AAPFU0939F").code == "MH"


@pytest.mark.parametrize("wrong_check", ["27AAPFU0939F1ZA", "27AAPFU0939F1Z0", "27AAPFU0939F1ZW", "27AAPFU0939F1ZU"])
def test_a_wrong_check_digit_is_refused(wrong_check):
    assert refusal(lambda: validate_gstin(wrong_check)) == ("gstin", "invalid_gstin_check_digit")


def test_a_single_typo_in_the_body_is_caught_by_the_check_digit():
    typo = "27AAPFU0938F1ZV"  # 9 -> 8 in the PAN part

    assert refusal(lambda: validate_gstin(typo)) == ("gstin", "invalid_gstin_check_digit")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "27AAPFU0939F1Z",  # 14 characters
        "27AAPFU0939F1ZV1",  # 16 characters
        "27aapfu0939f1zv",  # lower case (callers normalise first)
        "2AAAPFU0939F1ZV",  # letter in the state code
        "27AAPF10939F1ZV",  # digit in the PAN's letters
        "27AAPFU0939F1XV",  # 14th character must be Z
    ],
)
def test_gstins_not_matching_the_pattern_are_refused(bad):
    assert refusal(lambda: validate_gstin(bad)) == ("gstin", "invalid_gstin")


@pytest.mark.parametrize("code", ["00", "28", "39", "99"])
def test_a_gstin_with_an_unknown_state_code_is_refused(code):
    first14 = f"{code}AAPFU0939F1Z"
    gstin = first14 + gstin_check_char(first14)  # a correct check digit: only the state is wrong
    assert code not in STATES_BY_GST_CODE

    assert refusal(lambda: validate_gstin(gstin)) == ("gstin", "unknown_gst_state_code")


def test_a_gstin_of_another_pan_is_refused():
    assert refusal(lambda: validate_gstin("27AAPFU0939F1ZV", pan="AABCT1234F")) == ("gstin", "gstin_pan_mismatch")


def test_the_field_name_of_a_refusal_can_be_chosen_by_the_caller():
    assert refusal(lambda: validate_gstin("nope", attr="branch_gstin")) == ("branch_gstin", "invalid_gstin")


def test_refusals_do_not_repeat_the_value():
    with pytest.raises(FieldInvalid) as caught:
        validate_gstin("27AAPFU0939F1ZA")

    assert "27AAPFU0939F1ZA" not in caught.value.detail
    assert caught.value.code == "validation_failed"
    assert caught.value.status == 400
    assert caught.value.errors == [
        {"attr": "gstin", "code": "invalid_gstin_check_digit", "detail": caught.value.detail}
    ]


# --- PAN, CIN, IFSC, account numbers ---------------------------------------------------------------


@pytest.mark.parametrize("pan", ["AAPFU0939F", "AABCS1234C"])
def test_valid_pans_pass(pan):
    validate_pan(pan)


@pytest.mark.parametrize("pan", ["", "AAPFU0939", "AAPFU09391", "aapfu0939f", "AAPF00939F", "AAPFU0939FF"])
def test_invalid_pans_are_refused(pan):
    assert refusal(lambda: validate_pan(pan)) == ("pan", "invalid_pan")


def test_valid_and_invalid_cins():
    validate_cin("U17111GJ2010PTC062345")
    validate_cin("L17110MH1973PLC019786")

    assert refusal(lambda: validate_cin("X17111GJ2010PTC062345")) == ("cin", "invalid_cin")
    assert refusal(lambda: validate_cin("U17111GJ2010PTC06234")) == ("cin", "invalid_cin")


@pytest.mark.parametrize("ifsc", ["SBIN0001234", "HDFC0000123", "ICIC0ABC123"])
def test_valid_ifscs_pass(ifsc):
    validate_ifsc(ifsc)


@pytest.mark.parametrize("ifsc", ["", "SBIN1001234", "SBI00001234", "SBIN000123", "SBIN00012345", "sbin0001234"])
def test_invalid_ifscs_are_refused(ifsc):
    assert refusal(lambda: validate_ifsc(ifsc)) == ("ifsc", "invalid_ifsc")


@pytest.mark.parametrize("number", ["123456789", "123456789012345678", "000012345678"])
def test_account_numbers_of_9_to_18_digits_pass(number):
    validate_bank_account_number(number)


@pytest.mark.parametrize("number", ["", "12345678", "1234567890123456789", "12345678A", "1234 5678 90"])
def test_other_account_numbers_are_refused(number):
    assert refusal(lambda: validate_bank_account_number(number)) == ("account_number", "invalid_account_number")


def test_normalize_identifier_upper_cases_and_drops_blanks():
    assert normalize_identifier(" 27aapfu0939f1zv ") == "27AAPFU0939F1ZV"
    assert normalize_identifier("sbin 000 1234") == "SBIN0001234"
    assert normalize_identifier("") == ""

"""SPEC section 2: partner users and applicants sign in with a 6-digit code sent by SMS.

The dev inbox (SmsMessage) is where the offline backend 'sends' codes, so tests read codes there.
Code expiry and send limits are DB timestamps compared with timezone.now(): time-machine moves them.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.errors import OtpSendLimited
from apps.accounts.models import OtpCode, SmsMessage, User, UserType
from apps.accounts.services.otp import otp_request
from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.organizations.tests.factories import OrganizationFactory

OTP_REQUEST = "/api/v1/auth/otp/request"
OTP_VERIFY = "/api/v1/auth/otp/verify"
ME = "/api/v1/me"
MOBILE = "+919800000001"

pytestmark = pytest.mark.django_db


def _request(client, mobile=MOBILE, **extra):
    return client.post(OTP_REQUEST, {"mobile": mobile, **extra}, format="json")


def _verify(client, code, mobile=MOBILE):
    return client.post(OTP_VERIFY, {"mobile": mobile, "code": code}, format="json")


def _sent_code(mobile=MOBILE):
    body = SmsMessage.objects.filter(to=mobile).latest("created_at").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def _other_code(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def _assert_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def _assert_nothing_sent():
    assert OtpCode.objects.count() == 0
    assert SmsMessage.objects.count() == 0


def _assert_nobody_signed_in(users_before):
    assert User.objects.count() == users_before
    assert OutstandingToken.objects.count() == 0


# --- request --------------------------------------------------------------------------------------


def test_a_registered_partner_number_gets_one_sms_with_the_code_and_one_hashed_code_row(api_client):
    ExternalUserFactory(mobile=MOBILE)

    response = _request(api_client)

    assert response.status_code == 202
    assert response.json() == {"mobile": MOBILE, "expires_in": 300}
    sms = SmsMessage.objects.get()
    assert sms.to == MOBILE
    assert sms.backend == "InboxSmsBackend"
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    assert sms.body.startswith(f"{code} is your Cotton ERP sign-in code. It expires in 5 minutes.")
    otp = OtpCode.objects.get()
    assert otp.mobile == MOBILE
    assert otp.code_hash != code
    assert code not in otp.code_hash
    assert len(otp.code_hash) == 64
    assert (otp.attempts, otp.consumed_at, otp.organization_id) == (0, None, None)
    assert timedelta(seconds=299) < otp.expires_at - otp.created_at <= timedelta(seconds=300)


@pytest.mark.parametrize("typed", ["98000 00001", "09800000001", "+91 98000-00001", "919800000001", "+919800000001"])
def test_every_way_of_writing_a_number_is_normalised_on_send_and_verify(api_client, typed):
    partner_user = ExternalUserFactory(mobile=MOBILE)

    request = _request(api_client, typed)
    verify = _verify(api_client, _sent_code(MOBILE), typed)

    assert request.status_code == 202
    assert request.json()["mobile"] == MOBILE
    assert SmsMessage.objects.get().to == MOBILE
    assert OtpCode.objects.get().mobile == MOBILE
    assert verify.status_code == 200
    assert verify.json()["user"]["id"] == str(partner_user.id)


def test_a_code_sent_to_one_spelling_verifies_under_another(api_client):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client, "98000 00001")

    response = _verify(api_client, _sent_code(MOBILE), "+91 98000-00001")

    assert response.status_code == 200


@pytest.mark.parametrize("typed", ["12345", "+91 12345 67890", "5800000001", "phone", "+0123456789"])
def test_a_bad_number_is_refused(api_client, organization, typed):
    response = _request(api_client, typed, organization_code=organization.code)

    _assert_error(response, 400, "invalid_mobile")
    _assert_nothing_sent()


@pytest.mark.parametrize("extra", [{}, {"organization_code": ""}], ids=["absent", "blank"])
def test_an_unknown_number_that_names_no_organization_gets_no_code_and_the_usual_answer(api_client, extra):
    response = _request(api_client, **extra)

    # The answer of a registered number (test_otp_pumping): the endpoint does not enumerate.
    assert (response.status_code, response.json()) == (202, {"mobile": MOBILE, "expires_in": 300})
    _assert_nothing_sent()
    assert User.objects.count() == 0


def test_an_unknown_organization_code_is_refused_on_its_field(api_client):
    response = _request(api_client, organization_code="NOPE")

    body = _assert_error(response, 400, "unknown_organization")
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [("organization_code", "unknown_organization")]
    _assert_nothing_sent()


def test_an_inactive_organization_cannot_be_applied_to(api_client):
    OrganizationFactory(code="SHUT", is_active=False)

    response = _request(api_client, organization_code="SHUT")

    _assert_error(response, 400, "unknown_organization")
    _assert_nothing_sent()


@pytest.mark.parametrize("factory", [UserFactory, SuperAdminFactory], ids=["staff", "platform-admin"])
def test_a_staff_number_gets_no_code_and_the_usual_answer(api_client, organization, factory):
    factory(mobile=MOBILE)

    response = _request(api_client, organization_code=organization.code)

    assert (response.status_code, response.json()) == (202, {"mobile": MOBILE, "expires_in": 300})
    _assert_nothing_sent()


def test_a_disabled_partner_user_gets_no_code_and_the_usual_answer(api_client):
    ExternalUserFactory(mobile=MOBILE, is_active=False)

    response = _request(api_client)

    assert (response.status_code, response.json()) == (202, {"mobile": MOBILE, "expires_in": 300})
    _assert_nothing_sent()


# --- verify ---------------------------------------------------------------------------------------


def test_the_code_from_the_dev_inbox_signs_a_partner_user_in(api_client):
    partner_user = ExternalUserFactory(mobile=MOBILE)
    _request(api_client)

    response = _verify(api_client, _sent_code())

    assert response.status_code == 200
    body = response.json()
    assert body["created"] is False
    assert body["token_type"] == "Bearer"
    assert body["user"]["id"] == str(partner_user.id)
    assert body["user"]["user_type"] == "EXTERNAL"
    assert OtpCode.objects.get().consumed_at is not None
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = api_client.get(ME)
    assert me.status_code == 200
    assert me.json()["user"]["mobile"] == MOBILE
    assert me.json()["user"]["organization"]["code"] == partner_user.organization.code


def test_first_login_of_an_unknown_number_creates_one_applicant_of_the_named_organization(api_client):
    organization = OrganizationFactory(code="SCH")
    other = OrganizationFactory(code="OTHER")
    request = _request(api_client, organization_code="sch")
    assert request.status_code == 202
    assert OtpCode.objects.get().organization == organization

    response = _verify(api_client, _sent_code())

    assert response.status_code == 200
    assert response.json()["created"] is True
    applicant = User.objects.get()
    assert applicant.mobile == MOBILE
    assert applicant.user_type == UserType.EXTERNAL
    assert applicant.organization == organization
    assert applicant.organization != other
    assert (applicant.email, applicant.is_verified, applicant.is_staff) == (None, True, False)
    assert applicant.has_usable_password() is False
    assert list(applicant.groups.all()) == []
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    me = api_client.get(ME).json()
    assert me["user"]["id"] == str(applicant.id)
    assert me["partner"] is None
    assert me["roles"] == []
    assert me["capabilities"] == []


def test_second_login_of_an_applicant_finds_the_same_user(api_client, organization):
    _request(api_client, organization_code=organization.code)
    first = _verify(api_client, _sent_code())

    second_request = _request(api_client)
    second = _verify(api_client, _sent_code())

    assert second_request.status_code == 202
    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert User.objects.count() == 1


def test_a_wrong_code_is_refused_and_counted_on_the_code(api_client):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)

    response = _verify(api_client, _other_code(_sent_code()))

    body = _assert_error(response, 400, "otp_invalid")
    assert body["attempts_left"] == 4
    assert body["detail"] == "The code is incorrect; 4 tries left for this code."
    otp = OtpCode.objects.get()
    assert (otp.attempts, otp.consumed_at) == (1, None)
    _assert_nobody_signed_in(users_before=1)


def test_after_five_wrong_tries_even_the_right_code_is_refused(api_client, settings):
    settings.LOGIN_FAILURE_LIMIT = 100  # the number's lockout is tested in test_lockout
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)
    code = _sent_code()
    answers = [_verify(api_client, _other_code(code)).json()["attempts_left"] for _ in range(5)]

    response = _verify(api_client, code)

    assert answers == [4, 3, 2, 1, 0]
    _assert_error(response, 400, "otp_attempts_exceeded")
    otp = OtpCode.objects.get()
    assert (otp.attempts, otp.consumed_at) == (5, None)
    _assert_nobody_signed_in(users_before=1)


def test_a_code_older_than_five_minutes_has_expired(api_client):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)
    code = _sent_code()

    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        response = _verify(api_client, code)

    _assert_error(response, 400, "otp_expired")
    otp = OtpCode.objects.get()
    assert (otp.attempts, otp.consumed_at) == (0, None)
    _assert_nobody_signed_in(users_before=1)


def test_a_code_still_works_just_before_five_minutes(api_client):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)
    code = _sent_code()

    with time_machine.travel(timezone.now() + timedelta(minutes=4, seconds=58)):
        response = _verify(api_client, code)

    assert response.status_code == 200


def test_a_used_code_cannot_be_used_again(api_client):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)
    code = _sent_code()
    assert _verify(api_client, code).status_code == 200

    response = _verify(api_client, code)

    _assert_error(response, 400, "otp_expired")
    assert OutstandingToken.objects.count() == 1


def test_a_code_that_was_never_sent_is_refused(api_client):
    ExternalUserFactory(mobile=MOBILE)

    response = _verify(api_client, "123456")

    _assert_error(response, 400, "otp_expired")
    _assert_nobody_signed_in(users_before=1)


def test_requesting_a_new_code_retires_the_previous_one(api_client):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)
    first = _sent_code()
    _request(api_client)
    second = _sent_code()
    assert OtpCode.objects.filter(consumed_at__isnull=True).count() == 1

    old = _verify(api_client, first)
    new = _verify(api_client, second)

    _assert_error(old, 400, "otp_invalid")
    assert new.status_code == 200


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12 456", ""])
def test_a_code_that_is_not_six_digits_is_a_validation_error(api_client, code):
    ExternalUserFactory(mobile=MOBILE)
    _request(api_client)

    response = _verify(api_client, code)

    body = _assert_error(response, 400, "validation_failed")
    assert [e["attr"] for e in body["errors"]] == ["code"]
    assert OtpCode.objects.get().attempts == 0
    _assert_nobody_signed_in(users_before=1)


# --- send limits ----------------------------------------------------------------------------------


def test_three_codes_per_ten_minutes_then_the_fourth_is_refused_until_a_slot_frees(api_client):
    ExternalUserFactory(mobile=MOBILE)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        statuses = []
        for _ in range(3):
            statuses.append(_request(api_client).status_code)
            traveller.shift(timedelta(minutes=1))

        refused = _request(api_client)  # 3 minutes after the first
        traveller.shift(timedelta(seconds=419))  # 1 s before the first send leaves the window
        still_refused = _request(api_client)
        traveller.shift(timedelta(seconds=2))  # Retry-After seconds after the refusal
        allowed = _request(api_client)

    assert statuses == [202, 202, 202]
    body = _assert_error(refused, 429, "otp_send_limited")
    assert body["retry_after"] == 421
    assert refused["Retry-After"] == "421"
    assert still_refused.status_code == 429
    assert allowed.status_code == 202
    assert OtpCode.objects.count() == 4
    assert SmsMessage.objects.count() == 4


def test_ten_codes_per_day_then_refused_until_a_day_after_the_first(api_client):
    ExternalUserFactory(mobile=MOBILE)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        statuses = []
        for burst in (3, 3, 3, 1):
            statuses += [_request(api_client).status_code for _ in range(burst)]
            traveller.shift(timedelta(minutes=11))

        refused = _request(api_client)  # 44 minutes after the first
        traveller.shift(timedelta(seconds=86400 - 44 * 60 - 1))  # 1 s before the first send is a day old
        still_refused = _request(api_client)
        traveller.shift(timedelta(seconds=2))  # Retry-After seconds after the refusal
        allowed = _request(api_client)

    assert statuses == [202] * 10
    body = _assert_error(refused, 429, "otp_send_limited")
    assert body["retry_after"] == 86400 - 44 * 60 + 1
    assert refused["Retry-After"] == str(86400 - 44 * 60 + 1)
    assert still_refused.status_code == 429
    assert allowed.status_code == 202
    assert OtpCode.objects.count() == 11
    assert SmsMessage.objects.count() == 11


def test_send_limits_count_per_number(api_client):
    ExternalUserFactory(mobile=MOBILE)
    ExternalUserFactory(mobile="+919800000002")
    for _ in range(3):
        _request(api_client)

    response = _request(api_client, "+919800000002")

    assert response.status_code == 202


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_number_never_exceed_the_send_limit(run_concurrently):
    ExternalUserFactory(mobile=MOBILE)

    results = run_concurrently(lambda: otp_request(mobile=MOBILE), times=6)

    outcomes = sorted(
        "sent" if r.error is None else (r.error.code if isinstance(r.error, OtpSendLimited) else repr(r.error))
        for r in results
    )
    assert outcomes == ["otp_send_limited"] * 3 + ["sent"] * 3
    assert OtpCode.objects.filter(mobile=MOBILE).count() == 3
    assert OtpCode.objects.filter(mobile=MOBILE, consumed_at__isnull=True).count() == 1
    assert SmsMessage.objects.filter(to=MOBILE).count() == 3

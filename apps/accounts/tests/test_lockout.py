"""SPEC section 2: 5 failed logins in 15 minutes lock the account (or the number) for 15 minutes.

The counters live in Redis with real-time TTLs, so expiry is shown with a 1-second lock and a
short sleep rather than by travelling in time.
"""

import re
import time

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import OtpCode, SmsMessage, User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, ExternalUserFactory, UserFactory

LOGIN = "/api/v1/auth/token"
OTP_REQUEST = "/api/v1/auth/otp/request"
OTP_VERIFY = "/api/v1/auth/otp/verify"
LOCK_SECONDS = 15 * 60

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def _fail_logins(client, email, times):
    for _ in range(times):
        assert _login(client, email, "Wrong-Pass1").status_code == 401


def _assert_locked(response):
    body = response.json()
    assert response.status_code == 429, body
    assert body["code"] == "login_locked"
    assert LOCK_SECONDS - 5 < body["retry_after"] <= LOCK_SECONDS
    assert response["Retry-After"] == str(body["retry_after"])
    assert body["request_id"] == response["X-Request-ID"]


def _sent_code(mobile):
    return re.search(r"\b(\d{6})\b", SmsMessage.objects.filter(to=mobile).latest("created_at").body).group(1)


def _other_code(code):
    return f"{(int(code) + 1) % 10**6:06d}"


# --- password -------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(api_client):
    staff = UserFactory(email="desk@example.com")
    _fail_logins(api_client, "desk@example.com", 5)

    response = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)

    _assert_locked(response)
    assert OutstandingToken.objects.count() == 0
    staff.refresh_from_db()
    assert staff.last_login is None


def test_four_wrong_passwords_do_not_lock(api_client):
    UserFactory(email="desk@example.com")
    _fail_logins(api_client, "desk@example.com", 4)

    response = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200


def test_the_lock_names_the_account_whatever_the_email_case(api_client):
    UserFactory(email="desk@example.com")
    _fail_logins(api_client, "DESK@example.com", 5)

    _assert_locked(_login(api_client, "desk@example.com", DEFAULT_PASSWORD))


def test_a_successful_login_before_the_limit_resets_the_count(api_client):
    UserFactory(email="desk@example.com")
    _fail_logins(api_client, "desk@example.com", 4)
    assert _login(api_client, "desk@example.com", DEFAULT_PASSWORD).status_code == 200
    _fail_logins(api_client, "desk@example.com", 4)

    response = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200


def test_locking_one_account_does_not_lock_another(api_client):
    UserFactory(email="desk@example.com")
    UserFactory(email="risk@example.com")
    _fail_logins(api_client, "desk@example.com", 5)

    response = _login(api_client, "risk@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200
    _assert_locked(_login(api_client, "desk@example.com", DEFAULT_PASSWORD))


def test_unknown_emails_are_counted_and_locked_too(api_client):
    _fail_logins(api_client, "nobody@example.com", 5)

    _assert_locked(_login(api_client, "nobody@example.com", "Wrong-Pass1"))
    assert User.objects.count() == 0


def test_the_lock_expires_after_the_lockout_period(api_client, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    UserFactory(email="desk@example.com")
    _fail_logins(api_client, "desk@example.com", 5)
    locked = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["retry_after"] == 1
    assert locked["Retry-After"] == "1"

    time.sleep(1.2)
    response = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200


def test_failures_older_than_the_window_are_forgotten(api_client, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    UserFactory(email="desk@example.com")
    _fail_logins(api_client, "desk@example.com", 4)

    time.sleep(1.2)
    _fail_logins(api_client, "desk@example.com", 4)
    response = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200


# --- OTP --------------------------------------------------------------------------------------------


def _lock_number_with_wrong_codes(client, mobile):
    assert client.post(OTP_REQUEST, {"mobile": mobile}, format="json").status_code == 202
    code = _sent_code(mobile)
    for _ in range(5):
        response = client.post(OTP_VERIFY, {"mobile": mobile, "code": _other_code(code)}, format="json")
        assert response.json()["code"] == "otp_invalid"
    return code


def test_five_wrong_codes_lock_the_number_for_verify_even_with_the_right_code(api_client):
    partner_user = ExternalUserFactory(mobile="+919800000001")
    code = _lock_number_with_wrong_codes(api_client, "+919800000001")

    response = api_client.post(OTP_VERIFY, {"mobile": "+919800000001", "code": code}, format="json")

    _assert_locked(response)
    assert OtpCode.objects.get().consumed_at is None
    assert OutstandingToken.objects.count() == 0
    partner_user.refresh_from_db()
    assert partner_user.last_login is None


def test_a_locked_number_cannot_request_new_codes(api_client):
    ExternalUserFactory(mobile="+919800000001")
    _lock_number_with_wrong_codes(api_client, "+919800000001")

    response = api_client.post(OTP_REQUEST, {"mobile": "98000 00001"}, format="json")

    _assert_locked(response)
    assert OtpCode.objects.count() == 1
    assert SmsMessage.objects.count() == 1


def test_locking_one_number_does_not_lock_another(api_client):
    ExternalUserFactory(mobile="+919800000001")
    ExternalUserFactory(mobile="+919800000002")
    _lock_number_with_wrong_codes(api_client, "+919800000001")

    request = api_client.post(OTP_REQUEST, {"mobile": "+919800000002"}, format="json")
    verify = api_client.post(
        OTP_VERIFY, {"mobile": "+919800000002", "code": _sent_code("+919800000002")}, format="json"
    )

    assert request.status_code == 202
    assert verify.status_code == 200

"""SPEC section 2: staff and platform admins sign in with e-mail + password; partner users never do.

Every refusal leaves no trace: no token rows, no last-login stamp.
"""

import re

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, ExternalUserFactory, SuperAdminFactory, UserFactory

LOGIN = "/api/v1/auth/token"
ME = "/api/v1/me"

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def _assert_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) >= {"type", "code", "detail", "errors", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def _assert_nothing_issued(user=None):
    assert OutstandingToken.objects.count() == 0
    if user is not None:
        user.refresh_from_db()
        assert user.last_login is None


# --- who may sign in ----------------------------------------------------------------------------


def test_staff_member_gets_a_token_pair_that_works_on_me(api_client):
    staff = UserFactory(email="desk@example.com")

    response = _login(api_client, "desk@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_expires_in"] == 15 * 60
    assert body["access"].count(".") == 2  # header.payload.signature
    assert body["refresh"].count(".") == 2
    assert OutstandingToken.objects.filter(user=staff).count() == 1
    staff.refresh_from_db()
    assert staff.last_login is not None

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = api_client.get(ME)
    assert me.status_code == 200
    assert me.json()["user"]["id"] == str(staff.id)
    assert me.json()["user"]["user_type"] == "INTERNAL"
    assert me.json()["user"]["organization"]["code"] == staff.organization.code
    assert me.json()["partner"] is None


def test_platform_admin_gets_a_token_pair_that_works_on_me(api_client):
    admin = SuperAdminFactory(email="root@example.com")

    response = _login(api_client, "root@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    me = api_client.get(ME).json()
    assert me["user"]["id"] == str(admin.id)
    assert me["user"]["user_type"] == "SUPER_ADMIN"
    assert me["user"]["organization"] is None


def test_email_is_matched_case_insensitively_and_trimmed(api_client):
    staff = UserFactory(email="kyc.officer@example.com")

    response = _login(api_client, "  KYC.Officer@Example.COM ", DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert OutstandingToken.objects.filter(user=staff).count() == 1


# --- refusals -------------------------------------------------------------------------------------


def test_wrong_password_is_refused_with_invalid_credentials(api_client):
    staff = UserFactory(email="desk@example.com")

    response = _login(api_client, "desk@example.com", "Wrong-Pass1")

    body = _assert_error(response, 401, "invalid_credentials")
    assert body["detail"] == "The e-mail or password is incorrect."
    _assert_nothing_issued(staff)


def test_unknown_email_is_refused_with_the_same_code_as_a_wrong_password(api_client):
    UserFactory(email="desk@example.com")

    unknown = _login(api_client, "nobody@example.com", DEFAULT_PASSWORD)
    wrong = _login(api_client, "desk@example.com", "Wrong-Pass1")

    unknown_body = _assert_error(unknown, 401, "invalid_credentials")
    wrong_body = _assert_error(wrong, 401, "invalid_credentials")
    assert unknown_body["detail"] == wrong_body["detail"]
    assert User.objects.count() == 1
    _assert_nothing_issued()


def test_partner_user_is_told_to_sign_in_by_otp(api_client):
    partner_user = ExternalUserFactory(email="mill.owner@example.com")
    partner_user.set_password(DEFAULT_PASSWORD)
    partner_user.save()

    response = _login(api_client, "mill.owner@example.com", DEFAULT_PASSWORD)

    _assert_error(response, 403, "password_login_not_allowed")
    _assert_nothing_issued(partner_user)


def test_disabled_staff_member_with_the_right_password_is_refused(api_client):
    staff = UserFactory(email="gone@example.com", is_active=False)

    response = _login(api_client, "gone@example.com", DEFAULT_PASSWORD)

    _assert_error(response, 403, "account_disabled")
    _assert_nothing_issued(staff)


def test_missing_fields_are_reported_per_attribute(api_client):
    response = api_client.post(LOGIN, {}, format="json")

    body = _assert_error(response, 400, "validation_failed")
    assert body["type"] == "validation_error"
    assert sorted((e["attr"], e["code"]) for e in body["errors"]) == [("email", "required"), ("password", "required")]
    _assert_nothing_issued()


def test_malformed_json_is_a_parse_error(api_client):
    UserFactory(email="desk@example.com")

    response = api_client.post(LOGIN, data='{"email": "desk@example.com", "password":', content_type="application/json")

    _assert_error(response, 400, "parse_error")
    _assert_nothing_issued()


def test_a_text_body_is_an_unsupported_media_type(api_client):
    UserFactory(email="desk@example.com")

    response = api_client.post(LOGIN, data=f"desk@example.com {DEFAULT_PASSWORD}", content_type="text/plain")

    _assert_error(response, 415, "unsupported_media_type")
    _assert_nothing_issued()


# --- request ids ---------------------------------------------------------------------------------


def test_error_body_request_id_is_the_x_request_id_header(api_client):
    response = _login(api_client, "nobody@example.com", DEFAULT_PASSWORD)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_a_sane_client_request_id_is_echoed(api_client):
    response = api_client.post(
        LOGIN, {"email": "nobody@example.com", "password": "x"}, format="json", HTTP_X_REQUEST_ID="req-12345678"
    )

    assert response["X-Request-ID"] == "req-12345678"
    assert response.json()["request_id"] == "req-12345678"


@pytest.mark.parametrize(
    "incoming",
    ["r" * 300, "req 12345678", "req-1234\n5678", "short", "req-<script>-1"],
    ids=["300-chars", "space", "newline", "too-short", "markup"],
)
def test_an_insane_client_request_id_is_replaced(api_client, incoming):
    response = api_client.post(
        LOGIN, {"email": "nobody@example.com", "password": "x"}, format="json", HTTP_X_REQUEST_ID=incoming
    )

    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]

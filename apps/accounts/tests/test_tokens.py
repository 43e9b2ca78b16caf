"""SPEC section 2: access 15 minutes, refresh 7 days, rotation with blacklisting of the used refresh
token, logout (one session or all), and a refresh token is never accepted as access."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

LOGIN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"

pytestmark = pytest.mark.django_db


def _sign_in(user):
    response = APIClient().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _me(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME)


def _refresh(refresh):
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json")


def _logout(access, **data):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.post(LOGOUT, data, format="json")


def _assert_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) >= {"type", "code", "detail", "errors", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def _blacklisted_jtis():
    return set(BlacklistedToken.objects.values_list("token__jti", flat=True))


def _jti(raw):
    return RefreshToken(raw, verify=False)["jti"]


# --- rotation -------------------------------------------------------------------------------------


def test_refresh_returns_a_new_pair_and_the_used_refresh_token_then_fails():
    staff = UserFactory()
    session = _sign_in(staff)

    rotated = _refresh(session["refresh"])

    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["refresh"] != session["refresh"]
    assert pair["access"] != session["access"]
    assert (pair["token_type"], pair["access_expires_in"]) == ("Bearer", 900)
    assert _me(pair["access"]).json()["user"]["id"] == str(staff.id)
    assert _refresh(pair["refresh"]).status_code == 200
    assert _blacklisted_jtis() == {_jti(session["refresh"]), _jti(pair["refresh"])}
    # Using a rotated token again is refused, and revokes its session (test_token_families).
    _assert_error(_refresh(session["refresh"]), 401, "token_not_valid")


@pytest.mark.django_db(transaction=True)
def test_two_clients_racing_with_one_refresh_token_get_exactly_one_new_pair(run_concurrently):
    staff = UserFactory()
    session = _sign_in(staff)

    results = run_concurrently(lambda: _refresh(session["refresh"]), times=2)

    assert [r.error for r in results] == [None, None]
    assert sorted(r.value.status_code for r in results) == [200, 401]
    refused = next(r.value for r in results if r.value.status_code == 401)
    assert refused.json()["code"] == "token_not_valid"
    assert _blacklisted_jtis() == {_jti(session["refresh"])}
    assert OutstandingToken.objects.filter(user=staff).count() == 2  # the login's and the one rotation's


def test_garbage_is_not_a_refresh_token():
    response = _refresh("not-a-jwt")

    _assert_error(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0


# --- token types ----------------------------------------------------------------------------------


def test_a_refresh_token_is_not_accepted_as_an_access_token():
    session = _sign_in(UserFactory())

    response = _me(session["refresh"])

    body = _assert_error(response, 401, "token_not_valid")
    assert body["errors"] == [{"code": "token_not_valid", "detail": body["detail"], "attr": None}]


def test_an_access_token_cannot_be_used_to_refresh():
    staff = UserFactory()
    session = _sign_in(staff)

    response = _refresh(session["access"])

    _assert_error(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0
    assert OutstandingToken.objects.filter(user=staff).count() == 1


def test_me_without_a_token_is_401_with_the_error_shape(api_client):
    response = api_client.get(ME)

    body = _assert_error(response, 401, "not_authenticated")
    assert body["type"] == "client_error"
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- logout ---------------------------------------------------------------------------------------


def test_logout_blacklists_the_sessions_refresh_token():
    staff = UserFactory()
    session = _sign_in(staff)
    other_session = _sign_in(staff)

    response = _logout(session["access"], refresh=session["refresh"])

    assert response.status_code == 200
    assert response.json() == {"revoked": 1}
    assert _blacklisted_jtis() == {_jti(session["refresh"])}
    _assert_error(_refresh(session["refresh"]), 401, "token_not_valid")
    assert _refresh(other_session["refresh"]).status_code == 200


def test_logging_out_the_same_session_twice_is_refused():
    session = _sign_in(UserFactory())
    _logout(session["access"], refresh=session["refresh"])

    response = _logout(session["access"], refresh=session["refresh"])

    _assert_error(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 1


def test_logout_with_another_users_refresh_token_is_refused_and_blacklists_nothing():
    mine = _sign_in(UserFactory())
    theirs = _sign_in(UserFactory())

    response = _logout(mine["access"], refresh=theirs["refresh"])

    _assert_error(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0
    assert _refresh(theirs["refresh"]).status_code == 200


def test_logout_needs_a_signed_in_user():
    session = _sign_in(UserFactory())

    response = APIClient().post(LOGOUT, {"refresh": session["refresh"]}, format="json")

    _assert_error(response, 401, "not_authenticated")
    assert BlacklistedToken.objects.count() == 0


def test_logout_everywhere_revokes_every_token_of_the_user_and_no_one_elses():
    staff = UserFactory()
    phone = _sign_in(staff)
    laptop = _sign_in(staff)
    colleague = _sign_in(UserFactory())

    response = _logout(laptop["access"], all=True)

    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    _assert_error(_me(laptop["access"]), 401, "token_revoked")
    _assert_error(_me(phone["access"]), 401, "token_revoked")
    _assert_error(_refresh(laptop["refresh"]), 401, "token_not_valid")
    _assert_error(_refresh(phone["refresh"]), 401, "token_not_valid")
    assert _blacklisted_jtis() == {_jti(phone["refresh"]), _jti(laptop["refresh"])}
    staff.refresh_from_db()
    assert staff.tokens_valid_after is not None
    assert _me(colleague["access"]).status_code == 200
    assert _refresh(colleague["refresh"]).status_code == 200


def test_signing_in_again_right_after_logging_out_everywhere_works():
    staff = UserFactory()
    old = _sign_in(staff)
    assert _logout(old["access"], all=True).status_code == 200

    new = _sign_in(staff)

    assert _me(new["access"]).status_code == 200
    assert _refresh(new["refresh"]).status_code == 200
    _assert_error(_me(old["access"]), 401, "token_revoked")


def test_a_disabled_users_tokens_are_refused():
    staff = UserFactory()
    session = _sign_in(staff)
    staff.is_active = False
    staff.save(update_fields=["is_active"])

    me = _me(session["access"])
    refresh = _refresh(session["refresh"])

    body = _assert_error(me, 401, "user_inactive")
    assert body["errors"] == [{"code": "user_inactive", "detail": "User is inactive", "attr": None}]
    _assert_error(refresh, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0


@pytest.mark.django_db
def test_logout_without_refresh_or_all_is_a_400_and_revokes_nothing(authenticate):
    user = UserFactory()

    response = authenticate(user).post("/api/v1/auth/logout", {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "refresh_token_required"
    assert BlacklistedToken.objects.count() == 0

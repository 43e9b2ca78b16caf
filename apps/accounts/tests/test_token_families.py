"""Refresh-token reuse revokes the whole session family (issue 14, item 13).

Every login starts a family; each rotation hands the family on. A rotated (blacklisted) refresh
token presented again means it was copied: every refresh and access token of that family is
revoked, and the user's other sessions are untouched."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

LOGIN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
ME = "/api/v1/me"

pytestmark = pytest.mark.django_db


def _sign_in(user):
    response = APIClient().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _refresh(refresh):
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json")


def _me(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME)


def test_reusing_a_rotated_refresh_token_revokes_the_tokens_issued_from_it():
    staff = UserFactory()
    stolen = _sign_in(staff)
    legitimate = _refresh(stolen["refresh"]).json()  # the owner rotates first
    assert _me(legitimate["access"]).status_code == 200

    reuse = _refresh(stolen["refresh"])  # the thief replays the copied token

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_not_valid"
    refused = _refresh(legitimate["refresh"])
    assert (refused.status_code, refused.json()["code"]) == (401, "token_not_valid")
    me = _me(legitimate["access"])
    assert (me.status_code, me.json()["code"]) == (401, "token_revoked")


def test_reuse_revokes_the_family_down_the_whole_chain():
    staff = UserFactory()
    first = _sign_in(staff)
    second = _refresh(first["refresh"]).json()
    third = _refresh(second["refresh"]).json()

    assert _refresh(first["refresh"]).status_code == 401

    assert _refresh(third["refresh"]).status_code == 401
    assert _me(third["access"]).status_code == 401
    assert _me(second["access"]).status_code == 401


def test_reuse_in_one_session_leaves_the_users_other_sessions_alone():
    staff = UserFactory()
    laptop = _sign_in(staff)
    phone = _sign_in(staff)
    _refresh(laptop["refresh"])

    assert _refresh(laptop["refresh"]).status_code == 401

    assert _me(phone["access"]).status_code == 200
    assert _refresh(phone["refresh"]).status_code == 200
    assert _me(_sign_in(staff)["access"]).status_code == 200  # signing in again starts a new family


def test_a_forged_or_garbage_token_revokes_nothing():
    staff = UserFactory()
    session = _sign_in(staff)
    header, payload, signature = session["refresh"].split(".")

    assert _refresh(f"{header}.{payload}.{signature[:-2]}xx").status_code == 401

    assert _refresh(session["refresh"]).status_code == 200

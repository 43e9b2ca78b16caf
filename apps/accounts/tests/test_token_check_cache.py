"""A token's signature and claims checked once per process (issue 15, JwtAuthentication): the
same bytes again are not decoded again, but are refused once they expire, and bytes altered in
any way are checked afresh. Whether the user may still use a token is asked on every request
(test_market_caller_cache.py: revocation, deactivation, membership, partner status)."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.backends import TokenBackend

from apps.accounts.authentication import _VERIFIED, VERIFIED_MAX_ENTRIES, forget_verified_tokens
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import issue_tokens

ME = "/api/v1/me"

pytestmark = [pytest.mark.django_db, pytest.mark.caller_cache]


@pytest.fixture(autouse=True)
def _no_checked_tokens():
    forget_verified_tokens()
    yield
    forget_verified_tokens()


def _me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME)


def _decodes():
    """TokenBackend.decode, counted."""
    return mock.patch.object(TokenBackend, "decode", autospec=True, side_effect=TokenBackend.decode)


def test_the_same_token_is_decoded_once_and_still_answers_as_its_user():
    user = UserFactory()
    access = issue_tokens(user).access
    with _decodes() as decode:
        first, second, third = _me(access), _me(access), _me(access)
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert (
        first.json()["user"]["email"] == second.json()["user"]["email"] == third.json()["user"]["email"] == user.email
    )
    assert decode.call_count == 1
    assert list(_VERIFIED) == [access.encode()]


def test_two_users_tokens_are_two_entries_each_answering_as_its_own_user():
    one, two = UserFactory(), UserFactory()
    access_one, access_two = issue_tokens(one).access, issue_tokens(two).access
    for _ in range(2):
        assert _me(access_one).json()["user"]["email"] == one.email
        assert _me(access_two).json()["user"]["email"] == two.email
    assert set(_VERIFIED) == {access_one.encode(), access_two.encode()}


def test_a_checked_token_is_refused_once_it_expires():
    access = issue_tokens(UserFactory()).access
    assert _me(access).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        response = _me(access)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert access.encode() not in _VERIFIED


def test_a_checked_token_is_served_until_just_before_it_expires():
    access = issue_tokens(UserFactory()).access
    assert _me(access).status_code == 200
    with _decodes() as decode, time_machine.travel(timezone.now() + timedelta(minutes=14, seconds=50)):
        assert _me(access).status_code == 200
    assert decode.call_count == 0


def test_an_altered_token_is_checked_afresh_and_refused():
    access = issue_tokens(UserFactory()).access
    assert _me(access).status_code == 200
    header, payload, signature = access.split(".")
    forged = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])

    with _decodes() as decode:
        response = _me(forged)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert decode.call_count == 1
    assert forged.encode() not in _VERIFIED


def test_with_the_caller_cache_off_every_request_decodes(settings):
    settings.CALLER_CACHE_ENABLED = False
    access = issue_tokens(UserFactory()).access
    with _decodes() as decode:
        assert _me(access).status_code == 200
        assert _me(access).status_code == 200
    assert decode.call_count == 2
    assert not _VERIFIED


def test_past_its_bound_the_cache_starts_again(monkeypatch):
    monkeypatch.setattr("apps.accounts.authentication.VERIFIED_MAX_ENTRIES", 2)
    user = UserFactory()
    tokens = [issue_tokens(user).access for _ in range(3)]
    for access in tokens:
        assert _me(access).status_code == 200
    assert list(_VERIFIED) == [tokens[2].encode()]
    assert VERIFIED_MAX_ENTRIES == 20_000

"""Housekeeping: OTP codes older than a day (the send-limit window) and expired JWT rows are deleted;
everything still in use is kept."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import OtpCode
from apps.accounts.tasks import prune_auth_artifacts
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.accounts.tokens import issue_tokens

pytestmark = pytest.mark.django_db


def _otp_code_sent(at, mobile="+919800000001"):
    with time_machine.travel(at, tick=False):
        return OtpCode.objects.create(mobile=mobile, code_hash="0" * 64, expires_at=at + timedelta(minutes=5))


def _session_started(user, at, *, blacklisted=False):
    with time_machine.travel(at, tick=False):
        pair = issue_tokens(user)
    outstanding = OutstandingToken.objects.get(jti=RefreshToken(pair.refresh, verify=False)["jti"])
    if blacklisted:
        BlacklistedToken.objects.create(token=outstanding)
    return outstanding


def test_prune_deletes_day_old_codes_and_expired_tokens_and_keeps_the_rest():
    now = timezone.now()
    staff = UserFactory()
    partner_user = ExternalUserFactory(mobile="+919800000001")
    old_codes = [_otp_code_sent(now - timedelta(days=1, minutes=1)), _otp_code_sent(now - timedelta(days=3))]
    fresh_codes = [_otp_code_sent(now - timedelta(hours=23)), _otp_code_sent(now - timedelta(minutes=1))]
    # Refresh tokens live 7 days: a session started 8 days ago has expired, one started 6 days ago has not.
    expired = [
        _session_started(staff, now - timedelta(days=8), blacklisted=True),
        _session_started(partner_user, now - timedelta(days=8)),
    ]
    live = [
        _session_started(staff, now - timedelta(days=6), blacklisted=True),
        _session_started(partner_user, now - timedelta(minutes=5)),
    ]

    result = prune_auth_artifacts.apply().get()

    assert result == {"otp_codes": 2, "tokens": 2, "blacklisted_tokens": 1}
    assert set(OtpCode.objects.values_list("pk", flat=True)) == {c.pk for c in fresh_codes}
    assert set(OutstandingToken.objects.values_list("pk", flat=True)) == {t.pk for t in live}
    assert list(BlacklistedToken.objects.values_list("token_id", flat=True)) == [live[0].pk]
    assert not OtpCode.objects.filter(pk__in=[c.pk for c in old_codes]).exists()
    assert not OutstandingToken.objects.filter(pk__in=[t.pk for t in expired]).exists()


def test_prune_with_nothing_to_delete_reports_zeros():
    _otp_code_sent(timezone.now())
    _session_started(UserFactory(), timezone.now())

    result = prune_auth_artifacts.apply().get()

    assert result == {"otp_codes": 0, "tokens": 0, "blacklisted_tokens": 0}
    assert (OtpCode.objects.count(), OutstandingToken.objects.count()) == (1, 1)


def test_a_blacklisted_refresh_token_stays_refused_until_it_expires(api_client):
    staff = UserFactory()
    pair = issue_tokens(staff)
    assert api_client.post("/api/v1/auth/token/refresh", {"refresh": pair.refresh}, format="json").status_code == 200

    prune_auth_artifacts.apply().get()
    replay = api_client.post("/api/v1/auth/token/refresh", {"refresh": pair.refresh}, format="json")

    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"

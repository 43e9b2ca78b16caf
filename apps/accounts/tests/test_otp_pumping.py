"""SMS pumping and number enumeration (issue 14, item 9): OTP sends are limited per client IP and
per organization per hour, and a registered, unknown, staff or disabled number gets the same
answer, so the endpoint does not tell which mobiles are registered."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import OtpCode, SmsMessage
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.organizations.tests.factories import OrganizationFactory

OTP_REQUEST = "/api/v1/auth/otp/request"

pytestmark = pytest.mark.django_db


def _request(mobile, ip="203.0.113.7", **extra):
    return APIClient(REMOTE_ADDR=ip).post(OTP_REQUEST, {"mobile": mobile, **extra}, format="json")


def test_sends_from_one_ip_are_limited_per_hour(settings):
    settings.OTP_SEND_LIMIT_PER_IP_HOUR = 3
    organization = OrganizationFactory()
    numbers = [f"+91980000010{i}" for i in range(5)]
    for mobile in numbers[:3]:
        assert _request(mobile, organization_code=organization.code).status_code == 202

    refused = _request(numbers[3], organization_code=organization.code)

    assert refused.status_code == 429
    assert refused.json()["code"] == "otp_send_limited"
    assert 3500 < int(refused["Retry-After"]) <= 3600
    assert SmsMessage.objects.count() == 3
    assert _request(numbers[4], ip="198.51.100.9", organization_code=organization.code).status_code == 202


def test_sends_for_one_organization_are_limited_per_hour_whatever_the_ip(settings):
    settings.OTP_SEND_LIMIT_PER_ORGANIZATION_HOUR = 2
    pumped, other = OrganizationFactory(), OrganizationFactory()
    for i in range(2):
        assert _request(f"+91980000020{i}", ip=f"198.51.100.{i}", organization_code=pumped.code).status_code == 202

    refused = _request("+919800000209", ip="198.51.100.50", organization_code=pumped.code)

    assert (refused.status_code, refused.json()["code"]) == (429, "otp_send_limited")
    assert OtpCode.objects.filter(organization=pumped).count() == 2
    assert _request("+919800000208", ip="198.51.100.51", organization_code=other.code).status_code == 202


def test_registered_unknown_staff_and_disabled_numbers_get_the_same_answer():
    organization = OrganizationFactory()
    partner = ExternalUserFactory(mobile="+919800000301", organization=organization)
    UserFactory(mobile="+919800000302", organization=organization)  # staff: signs in by password
    ExternalUserFactory(mobile="+919800000303", organization=organization, is_active=False)
    numbers = [partner.mobile, "+919800000302", "+919800000303", "+919800000304"]  # the last is nobody's

    answers = [_request(mobile, ip=f"192.0.2.{i}") for i, mobile in enumerate(numbers)]

    assert {r.status_code for r in answers} == {202}
    assert [r.json() for r in answers] == [{"mobile": m, "expires_in": 300} for m in numbers]
    assert list(SmsMessage.objects.values_list("to", flat=True)) == [partner.mobile]  # only a real sign-in

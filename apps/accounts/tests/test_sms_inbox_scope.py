"""The dev SMS inbox is scoped by the organization each message was sent for, fixed at send time
(issue 14, item 8). It used to be scoped by mobile number: anyone could ask for a code for a
number "applying to" their own organization, and that organization's staff then read every later
code sent to the number, including the ones for another organization's sign-in."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from rest_framework.test import APIClient

from apps.accounts.models import SmsMessage
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.organizations.tests.factories import OrganizationFactory

OTP_REQUEST = "/api/v1/auth/otp/request"
MOBILE = "+919800000077"

pytestmark = pytest.mark.django_db


def _inbox_of(staff) -> list[str]:
    request = RequestFactory().get("/admin/accounts/smsmessage/")
    request.user = staff
    rows = admin.site._registry[SmsMessage].get_queryset(request)
    return sorted(str(organization) for organization in rows.values_list("organization__code", flat=True))


def _request_code(mobile, organization_code=None):
    body = {"mobile": mobile, **({"organization_code": organization_code} if organization_code else {})}
    response = APIClient().post(OTP_REQUEST, body, format="json")
    assert response.status_code == 202, response.json()


def test_an_applicants_codes_are_seen_only_by_the_organization_each_was_sent_for():
    mills, rival = OrganizationFactory(code="MILLS"), OrganizationFactory(code="RIVAL")
    _request_code(MOBILE, "RIVAL")  # the rival "applies" with the number first
    _request_code(MOBILE, "MILLS")  # the real applicant signs in to the mills

    assert _inbox_of(UserFactory(organization=rival)) == ["RIVAL"]
    assert _inbox_of(UserFactory(organization=mills)) == ["MILLS"]
    assert SmsMessage.objects.filter(to=MOBILE).count() == 2


def test_a_partner_users_code_belongs_to_the_users_organization_whatever_the_request_claims():
    mills, rival = OrganizationFactory(code="MILLS"), OrganizationFactory(code="RIVAL")
    partner_user = ExternalUserFactory(organization=mills)

    _request_code(partner_user.mobile, "RIVAL")

    message = SmsMessage.objects.get(to=partner_user.mobile)
    assert message.organization_id == mills.pk
    assert _inbox_of(UserFactory(organization=rival)) == []
    assert _inbox_of(UserFactory(organization=mills)) == ["MILLS"]

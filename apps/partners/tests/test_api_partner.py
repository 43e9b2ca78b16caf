from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.tests.factories import ExternalUserFactory
from apps.partners import services
from apps.partners.models import OnboardingApplication
from apps.partners.selectors import partner_id_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def approval(reviewed_application: OnboardingApplication, desk_manager: Any) -> Any:
    return services.application_approve(
        actor=desk_manager, application_id=reviewed_application.id, credit_limit=Decimal("1000000")
    )


def test_me_shows_the_partner_after_approval(
    authenticate: Any, applicant: Any, reviewed_application: OnboardingApplication, desk_manager: Any
) -> None:
    assert authenticate(applicant).get("/api/v1/me").json()["partner"] is None

    approval = services.application_approve(
        actor=desk_manager, application_id=reviewed_application.id, credit_limit=Decimal("1000000")
    )

    partner = authenticate(applicant).get("/api/v1/me").json()["partner"]
    assert partner == {
        "id": str(approval.partner.id),
        "code": "BP-000001",
        "name": "Shree Ginning Private Limited",
        "role": "OWNER",
    }


def test_resolvers_of_events_webhooks_and_realtime_know_the_partner(approval: Any, applicant: Any) -> None:
    from apps.realtime.audience import partner_of
    from apps.webhooks.ownership import partner_id_of as webhook_partner_id_of

    assert partner_id_of(applicant) == approval.partner.id
    assert webhook_partner_id_of(applicant) == approval.partner.id
    assert partner_of(applicant) == str(approval.partner.id)


def test_partner_is_read_by_its_users_and_its_organization_staff(
    authenticate: Any, approval: Any, applicant: Any, kyc_officer: Any
) -> None:
    url = f"/api/v1/partners/{approval.partner.id}"

    for user in (applicant, kyc_officer):
        response = authenticate(user).get(url)
        assert response.status_code == 200
        body = response.json()
        assert (body["code"], body["credit_limit"], body["kyc_status"]) == ("BP-000001", "1000000.00", "VERIFIED")


def test_partner_is_404_for_everyone_else(
    authenticate: Any, api_client: Any, approval: Any, organization: Any, other_org_staff: Any, other_organization: Any
) -> None:
    url = f"/api/v1/partners/{approval.partner.id}"
    assert api_client.get(url).status_code == 401

    for user in (
        other_org_staff,
        ExternalUserFactory(organization=organization),
        ExternalUserFactory(organization=other_organization),
    ):
        response = authenticate(user).get(url)
        assert (response.status_code, response.json()["code"]) == (404, "partner_not_found")

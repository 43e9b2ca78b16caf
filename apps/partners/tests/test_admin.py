from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from apps.core.tests.clients import staff_client
from apps.partners.models import BusinessPartner, OnboardingApplication, PartnerMembership

pytestmark = pytest.mark.django_db


def _action_url(app: OnboardingApplication, tool: str) -> str:
    return f"/admin/partners/onboardingapplication/{app.pk}/actions/{tool}/"


def test_kyc_officer_verifies_documents_and_desk_manager_approves_in_the_admin(
    submitted_application: OnboardingApplication, kyc_officer: Any, desk_manager: Any
) -> None:
    officer = staff_client(kyc_officer)
    assert officer.get("/admin/partners/onboardingapplication/?state__exact=SUBMITTED").status_code == 200
    assert officer.get(f"/admin/partners/onboardingapplication/{submitted_application.pk}/change/").status_code == 200
    for document in submitted_application.documents.all():
        response = officer.post(
            f"/admin/partners/onboardingapplication/{submitted_application.pk}/documents/{document.pk}/decide/",
            {"decision": "verify"},
        )
        assert response.status_code == 302

    response = officer.post(_action_url(submitted_application, "approve"), {"credit_limit": "1000", "note": ""})
    assert response.status_code == 200  # the form again, with the refusal on it
    assert "(permission_denied)" in response.content.decode()
    assert BusinessPartner.objects.count() == 0  # the officer lacks the capability and reviewed it

    manager = staff_client(desk_manager)
    response = manager.post(_action_url(submitted_application, "approve"), {"credit_limit": "250000", "note": "ok"})

    assert response.status_code == 302
    submitted_application.refresh_from_db()
    assert submitted_application.state == "APPROVED"
    assert PartnerMembership.objects.get().partner.code == "BP-000001"


def test_staff_of_another_organization_do_not_see_the_application(
    submitted_application: OnboardingApplication, other_org_staff: Any
) -> None:
    other_org_staff.user_permissions.add(Permission.objects.get(codename="view_onboardingapplication"))
    client = staff_client(other_org_staff)

    response = client.get(f"/admin/partners/onboardingapplication/{submitted_application.pk}/change/")

    assert response.status_code == 302  # the admin redirects a missing object to its index
    response = client.post(_action_url(submitted_application, "reject"), {"reason": "x"}, follow=True)
    assert "No such onboarding application. (application_not_found)" in [str(m) for m in response.context["messages"]]
    submitted_application.refresh_from_db()
    assert submitted_application.state == "SUBMITTED"

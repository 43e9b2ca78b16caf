"""KYC documents are viewable only through scoped views: the admin's link and the partner API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.core.tests.clients import staff_client
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db


def _url(document: Any) -> str:
    return f"/admin/partners/document/{document.pk}/file/"


def test_the_kyc_officer_opens_a_submitted_document_from_the_application_page(submitted_application, kyc_officer):
    document = submitted_application.documents.order_by("document_type").first()
    client = staff_client(kyc_officer)

    page = client.get(f"/admin/partners/onboardingapplication/{submitted_application.pk}/change/")
    response = client.get(_url(document))

    assert _url(document) in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("inline;")
    assert b"".join(response.streaming_content) == factories.TINY_PDF


def test_staff_of_another_organization_get_404_and_anonymous_the_login(submitted_application, other_org_staff):
    document = submitted_application.documents.first()

    assert staff_client(other_org_staff).get(_url(document)).status_code == 404
    anonymous = Client().get(_url(document))
    assert (anonymous.status_code, anonymous["Location"].startswith("/admin/login/")) == (302, True)


def test_a_partner_user_cannot_use_the_admin_view(partner, owner):
    document = partner.documents.first()

    response = staff_client(owner).get(_url(document))

    assert response.status_code == 302  # not staff: sent to the admin login


def test_members_and_staff_read_the_partners_document_through_the_api(
    authenticate, partner, viewer, desk_manager, other_partner, other_org_staff
):
    document = partner.documents.order_by("document_type").first()
    url = f"/api/v1/partners/{partner.pk}/documents/{document.pk}/file"

    for user in (viewer, desk_manager):
        response = authenticate(user).get(url)
        assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
        assert b"".join(response.streaming_content) == factories.TINY_PDF
    for user in (other_partner.owner, other_org_staff):
        response = authenticate(user).get(url)
        assert (response.status_code, response.json()["code"]) in {
            (404, "partner_not_found"),
            (404, "document_not_found"),
        }
    other_document = other_partner.documents.first()
    response = authenticate(viewer).get(f"/api/v1/partners/{partner.pk}/documents/{other_document.pk}/file")
    assert (response.status_code, response.json()["code"]) == (404, "document_not_found")


def test_staff_without_the_document_capability_get_403_from_the_api(authenticate, partner, risk_officer):
    risk_officer.groups.clear()  # staff of the organization, no partner capabilities at all
    document = partner.documents.first()

    response = authenticate(risk_officer).get(f"/api/v1/partners/{partner.pk}/documents/{document.pk}/file")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")

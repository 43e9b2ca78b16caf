"""GET /api/v1/partners/: scoped, filtered, paginated with constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.partners.models import BusinessPartner
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db


def _codes(response):
    return sorted(row["code"] for row in response.json()["results"])


def test_staff_see_their_organizations_partners_only(
    authenticate, desk_manager, partner, other_partner, foreign_partner
):
    response = authenticate(desk_manager).get("/api/v1/partners/")

    assert response.status_code == 200
    assert _codes(response) == sorted([partner.code, other_partner.code])
    assert foreign_partner.pk not in {row["id"] for row in response.json()["results"]}


def test_a_partner_user_sees_only_its_own_partner(authenticate, viewer, partner, other_partner):
    response = authenticate(viewer).get("/api/v1/partners/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(partner.pk)]


def test_an_applicant_and_anonymous_see_nothing(api_client, authenticate, applicant, other_partner):
    assert api_client.get("/api/v1/partners/").status_code == 401
    assert authenticate(applicant).get("/api/v1/partners/").json()["results"] == []


def test_filters_are_validated_and_applied(authenticate, desk_manager, partner, other_partner):
    BusinessPartner.objects.filter(pk=other_partner.pk).update(status="SUSPENDED")
    client = authenticate(desk_manager)

    assert _codes(client.get("/api/v1/partners/?status=SUSPENDED")) == [other_partner.code]
    assert _codes(client.get(f"/api/v1/partners/?search={partner.code}")) == [partner.code]
    bad = client.get("/api/v1/partners/?status=SLEEPING")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "status"


def test_the_list_costs_the_same_queries_for_one_partner_or_many(authenticate, desk_manager, organization):
    client = authenticate(desk_manager)
    factories.approved_partner(organization)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/partners/").json()["results"]) == 1
    for _ in range(4):
        factories.approved_partner(organization)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get("/api/v1/partners/").json()["results"]) == 5

    assert len(five) == len(one)

"""`GET /api/v1/market/availabilities/` and `/market/requirements/`: anonymous rows for partners,
named ones for staff, refusals, validated filters, cursor pages at a constant number of queries."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import ExternalUserFactory
from apps.partners.models import BusinessPartner
from apps.partners.tests.factories import approved_partner
from apps.tradedesk.api.market import AVAILABILITY_FILTER_PARAMETERS
from apps.tradedesk.models import Visibility
from apps.tradedesk.tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.caller_cache]

AVAILABILITIES = "/api/v1/market/availabilities/"
REQUIREMENTS = "/api/v1/market/requirements/"


def _identity_of(partner: Any) -> list[str]:
    """What would identify the poster, as it could appear in a response or a frame."""
    return [str(partner.pk), partner.code, partner.legal_name, str(partner.owner.pk)]


def _ids(response: Any) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


# --- what a partner sees --------------------------------------------------------------------------


def test_a_partner_sees_an_anonymous_offer_with_state_region_and_rating_band(authenticate, seller, buyer, cotton):
    BusinessPartner.objects.filter(pk=seller.pk).update(risk_category="LOW")
    posted = factories.availability(seller, cotton, number="AV/2026-27/000042")

    response = authenticate(buyer.owner).get(AVAILABILITIES)

    assert response.status_code == 200
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    assert datetime.fromisoformat(body["results"][0]["created_at"]) == posted.created_at
    assert datetime.fromisoformat(body["results"][0]["expires_at"]) == posted.expires_at
    assert body["results"] == [
        {
            "id": str(posted.pk),
            "commodity_id": str(cotton.pk),
            "commodity_code": "COTTON",
            "variety_id": None,
            "variety_code": None,
            "quantity_unit": "BALE",
            "price_unit": "CANDY",
            "currency": "INR",
            "delivery_term_id": None,
            "delivery_term_code": None,
            "visibility": "PUBLIC",
            "state_code": "GJ",
            "state_name": "Gujarat",
            "region": "WEST",
            "rating_band": "A",
            "poster": None,
            "created_at": body["results"][0]["created_at"],
            "status": "ACTIVE",
            "quantity": "100.000",
            "total_kg": "17000.000",
            "available_kg": "17000.000",
            "min_order_kg": "0.000",
            "partial_allowed": True,
            "price": "60000.00",
            "price_per_kg": "168.7194",
            "quality": factories.COTTON_QUALITY,
            "available_from": body["results"][0]["available_from"],
            "available_until": body["results"][0]["available_until"],
            "day_only": False,
            "expires_at": body["results"][0]["expires_at"],
        }
    ]
    text = response.content.decode()
    for identifying in [*_identity_of(seller), "AV/2026-27/000042", str(posted.location_id)]:
        assert identifying not in text


def test_a_partner_sees_an_anonymous_requirement(authenticate, seller_trader, buyer, cotton):
    BusinessPartner.objects.filter(pk=buyer.pk).update(risk_category="MEDIUM")
    wanted = factories.requirement(buyer, cotton, number="RQ/2026-27/000009")
    wanted.delivery_locations.create(location=factories.coimbatore(), radius_km=Decimal("50"))

    response = authenticate(seller_trader).get(REQUIREMENTS)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == str(wanted.pk)
    assert (row["state_code"], row["state_name"], row["region"]) == ("TN", "Tamil Nadu", "SOUTH")
    assert (row["min_kg"], row["max_kg"], row["remaining_kg"]) == ("8500.000", "34000.000", "34000.000")
    assert (row["max_price_per_kg"], row["urgency"], row["rating_band"], row["poster"]) == (
        "174.3434",
        "NORMAL",
        "B",
        None,
    )
    assert row["spec"] == wanted.spec
    text = response.content.decode()
    for identifying in [*_identity_of(buyer), "RQ/2026-27/000009", str(factories.coimbatore().pk), "Coimbatore"]:
        assert identifying not in text


def test_a_partner_does_not_see_its_own_private_or_uninvited_postings(authenticate, seller, buyer, cotton):
    factories.availability(buyer, cotton)  # its own
    factories.availability(seller, cotton, visibility=Visibility.PRIVATE)
    factories.availability(seller, cotton, visibility=Visibility.RESTRICTED)
    invited = factories.availability(seller, cotton, visibility=Visibility.RESTRICTED)
    invited.invited_partners.set([buyer])

    assert _ids(authenticate(buyer.owner).get(AVAILABILITIES)) == [str(invited.pk)]


def test_another_organizations_partner_sees_none_of_this_organizations_postings(
    authenticate, seller, cotton, foreign_partner, other_organization
):
    factories.availability(seller, cotton)
    factories.requirement(seller, cotton)
    theirs = factories.availability(approved_partner(other_organization), cotton)

    client = authenticate(foreign_partner.owner)

    assert _ids(client.get(AVAILABILITIES)) == [str(theirs.pk)]
    assert _ids(client.get(REQUIREMENTS)) == []


# --- staff, applicants, refusals --------------------------------------------------------------------


def test_staff_see_the_poster_and_private_postings(authenticate, seller, buyer, cotton, desk_manager):
    public = factories.availability(seller, cotton, number="AV/2026-27/000001")
    private = factories.availability(buyer, cotton, visibility=Visibility.PRIVATE, number="AV/2026-27/000002")

    response = authenticate(desk_manager).get(AVAILABILITIES)

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {str(public.pk), str(private.pk)}
    assert rows[str(public.pk)]["poster"] == {
        "partner_id": str(seller.pk),
        "partner_code": seller.code,
        "partner_legal_name": "Shree Rajkot Ginning Private Limited",
        "number": "AV/2026-27/000001",
    }
    assert rows[str(private.pk)]["poster"]["partner_legal_name"] == "Coimbatore Spinning Mills Limited"


def test_staff_without_the_trade_desk_capability_are_refused(authenticate, seller, cotton, kyc_officer):
    factories.availability(seller, cotton)

    for url in (AVAILABILITIES, REQUIREMENTS):
        response = authenticate(kyc_officer).get(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_an_applicant_without_a_partner_is_refused(authenticate, organization, seller, cotton):
    factories.availability(seller, cotton)
    applicant = ExternalUserFactory(organization=organization)

    for url in (AVAILABILITIES, REQUIREMENTS):
        response = authenticate(applicant).get(url)
        assert (response.status_code, response.json()["code"]) == (403, "market_closed")


def test_an_anonymous_caller_is_refused(api_client):
    assert api_client.get(AVAILABILITIES).status_code == 401
    assert api_client.get(REQUIREMENTS).status_code == 401


# --- filters over the API ---------------------------------------------------------------------------


def test_filters_combine_over_the_api(authenticate, seller, buyer, cotton):
    fine = factories.availability(seller, cotton, quality={"staple_length": "29.5", "micronaire": "4.1"})
    factories.availability(seller, cotton, quality={"staple_length": "27.0", "micronaire": "4.1"})
    factories.availability(seller, cotton, quality={"staple_length": "29.5", "micronaire": "4.1"}, state_code="MH")

    response = authenticate(buyer.owner).get(
        AVAILABILITIES,
        {
            "commodity": "cotton",
            "quality.staple_length.min": "28.5",
            "quality.micronaire.max": "4.5",
            "state": "gj",
            "region": "WEST",
            "price_per_kg_max": "170",
            "min_available_kg": "17000",
        },
    )

    assert response.status_code == 200
    assert _ids(response) == [str(fine.pk)]


@pytest.mark.parametrize(
    ("url", "params", "attr"),
    [
        (AVAILABILITIES, {"price_per_kg_min": "cheap"}, "price_per_kg_min"),
        (AVAILABILITIES, {"price_per_kg_min": "-1"}, "price_per_kg_min"),
        (AVAILABILITIES, {"price_per_kg_min": "180", "price_per_kg_max": "170"}, "price_per_kg_max"),
        (AVAILABILITIES, {"commodity": "cotton lint"}, "commodity"),
        (AVAILABILITIES, {"variety": "shankar 6"}, "variety"),
        (AVAILABILITIES, {"state": "Gujarat"}, "state"),
        (AVAILABILITIES, {"region": "MIDWEST"}, "region"),
        (AVAILABILITIES, {"min_available_kg": "lots"}, "min_available_kg"),
        (AVAILABILITIES, {"quality.staple_length.min": "long"}, "quality.staple_length.min"),
        (AVAILABILITIES, {"quality.fineness.min": "1"}, "quality.fineness.min"),
        (REQUIREMENTS, {"quantity_kg": "-5"}, "quantity_kg"),
        (REQUIREMENTS, {"urgency": "YESTERDAY"}, "urgency"),
        (REQUIREMENTS, {"price_per_kg_max": "1e99"}, "price_per_kg_max"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(authenticate, buyer, cotton, url, params, attr):
    response = authenticate(buyer.owner).get(url, params)

    assert response.status_code == 400
    assert attr in [error["attr"] for error in response.json()["errors"]]


# --- pages ------------------------------------------------------------------------------------------


def test_pages_run_newest_first_with_a_cursor(authenticate, seller, buyer, cotton):
    made = [factories.availability(seller, cotton) for _ in range(3)]
    client = authenticate(buyer.owner)

    first = client.get(AVAILABILITIES, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [row["id"] for row in first["results"]] == [str(made[2].pk), str(made[1].pk)]
    assert [row["id"] for row in second["results"]] == [str(made[0].pk)]
    assert second["next"] is None


def _count_queries(client: Any, url: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    return len(queries)


@pytest.mark.parametrize("who", ["partner", "staff"])
def test_a_page_costs_the_same_queries_at_1_10_and_50_rows(authenticate, seller, buyer, cotton, desk_manager, who):
    shankar = cotton.varieties.get(code="SHANKAR-6")
    for n in range(50):
        posted = factories.availability(
            seller,
            cotton,
            variety=shankar if n % 2 else None,
            visibility=Visibility.RESTRICTED if n % 3 else Visibility.PUBLIC,
        )
        posted.invited_partners.set([buyer])
        factories.requirement(seller, cotton, variety=shankar if n % 2 else None)
    client = authenticate(buyer.owner if who == "partner" else desk_manager)

    for url in (AVAILABILITIES, REQUIREMENTS):
        client.get(url)  # the caller is resolved once, then cached (issue 15)
        counts = [_count_queries(client, url, size) for size in (1, 10, 50)]
        # Partner: the page. Staff: its permissions (user and group), the page.
        assert counts == [counts[0]] * 3, (url, counts)
        assert counts[0] == (1 if who == "partner" else 3), (url, counts)


def test_a_quality_filter_adds_no_query_whatever_the_page_size(authenticate, seller, buyer, cotton):
    for _ in range(10):
        factories.availability(seller, cotton)
    client = authenticate(buyer.owner)
    params = {"commodity": "COTTON", "quality.staple_length.min": "28"}

    client.get(AVAILABILITIES)  # the caller is resolved once, then cached (issue 15)
    counts = []
    for size in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(AVAILABILITIES, {**params, "page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))

    assert counts == [1, 1]  # the page, which checks the quality parameters too


def test_the_schema_lists_both_market_operations(authenticate, desk_manager):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        path: op["get"]["operationId"] for path, op in schema["paths"].items() if path.startswith("/api/v1/market/")
    }

    assert operations == {
        "/api/v1/market/availabilities/": "tradedesk_market_availabilities_list",
        "/api/v1/market/requirements/": "tradedesk_market_requirements_list",
    }
    assert json.dumps(schema["components"]["schemas"]["MarketAvailabilityOutput"])


@pytest.mark.parametrize("parameter", sorted(AVAILABILITY_FILTER_PARAMETERS))
def test_every_availability_filter_parameter_is_validated(authenticate, buyer, cotton, parameter):
    """The view skips the filter input when no filter parameter is given: each one it declares
    still reaches validation (a bad value: 400 naming it)."""
    response = authenticate(buyer.owner).get(AVAILABILITIES, {parameter: "!!", "page_size": "5"})

    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == [parameter]


def test_parameters_that_are_not_filters_leave_the_market_unfiltered(authenticate, seller, buyer, cotton):
    factories.availability(seller, cotton)
    factories.availability(seller, cotton, state_code="MH")

    response = authenticate(buyer.owner).get(AVAILABILITIES, {"page_size": "5", "states": "MH", "q": "x"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert {
        "commodity",
        "variety",
        "price_per_kg_min",
        "price_per_kg_max",
        "state",
        "region",
        "min_available_kg",
    } == AVAILABILITY_FILTER_PARAMETERS


def test_filter_serializers_bind_their_own_copies_and_leave_the_declared_fields_unbound():
    from django.http import QueryDict

    from apps.tradedesk.api.market import MarketAvailabilityFilters

    good = MarketAvailabilityFilters(data=QueryDict("commodity=cotton&price_per_kg_min=160&state=gj"))
    bad = MarketAvailabilityFilters(data=QueryDict("commodity=cotton lint&price_per_kg_min=cheap&region=MIDWEST"))

    assert good.is_valid()
    assert not bad.is_valid()
    assert good.validated_data == {"commodity": "COTTON", "price_per_kg_min": Decimal("160"), "state": "GJ"}
    assert set(bad.errors) == {"commodity", "price_per_kg_min", "region"}
    for name, declared in MarketAvailabilityFilters._declared_fields.items():
        assert good.fields[name] is not declared
        assert good.fields[name] is not bad.fields[name]
        assert good.fields[name].parent is good
        assert bad.fields[name].parent is bad
        assert good.fields[name].field_name == name
        assert declared.parent is None  # as DRF's Field.__init__ left it
        assert declared.field_name is None

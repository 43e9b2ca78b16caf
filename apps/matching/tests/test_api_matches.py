"""`GET /api/v1/matches/`, `GET /api/v1/matches/{token}` and `GET /api/v1/requirements/{id}/match-report`:
the caller's partner's proposals best first at constant queries, the token view that never names
the counterparty, 404 outside the pair and its organization, and the report of why."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.matching.services.proposals import requirement_match
from apps.matching.tests.factories import distinct_partner
from apps.matching.tests.test_engine import need, offer, town
from apps.partners.models import Branch
from apps.tradedesk.models import Visibility

pytestmark = pytest.mark.django_db

MATCHES = "/api/v1/matches/"


def report_url(requirement: Any) -> str:
    return f"/api/v1/requirements/{requirement.pk}/match-report"


@pytest.fixture
def pair(cotton: Any, buyer: Any, seller: Any) -> dict[str, Any]:
    requirement = need(buyer, cotton, points=[("Coimbatore", "80")])
    lot = offer(seller, cotton, location=town("Tiruppur"), number="AV/2026-27/000042")
    proposal = requirement_match(requirement_id=requirement.pk).kept[0]
    return {"requirement": requirement, "offer": lot, "proposal": proposal}


def test_the_buyer_and_the_seller_list_the_proposal_from_their_side(authenticate, pair, buyer, seller):
    token = pair["proposal"].token

    as_buyer = authenticate(buyer.owner).get(MATCHES).json()["results"]
    as_seller = authenticate(seller.owner).get(MATCHES).json()["results"]

    assert [(r["token"], r["side"], r["own_posting_id"]) for r in as_buyer] == [
        (token, "buyer", str(pair["requirement"].pk))
    ]
    assert [(r["token"], r["side"], r["own_posting_id"]) for r in as_seller] == [
        (token, "seller", str(pair["offer"].pk))
    ]
    assert as_buyer[0]["counterparty"] == {"role": "seller", "region": "WEST", "rating_band": "A"}
    assert as_seller[0]["counterparty"] == {"role": "buyer", "region": "SOUTH", "rating_band": "A"}
    assert as_buyer[0]["score"] == str(pair["proposal"].score)


def test_the_list_is_best_first_and_a_page_costs_the_same_queries_at_1_5_and_12_rows(
    authenticate, cotton, buyer, seller
):
    for n in range(12):
        offer(seller, cotton, candy=str(60000 + 100 * n))
    requirement_match(requirement_id=need(buyer, cotton).pk)
    client = authenticate(buyer.owner)

    counts = []
    for size in (1, 5, 12):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(MATCHES, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    scores = [Decimal(r["score"]) for r in client.get(MATCHES).json()["results"]]

    assert counts == [3, 3, 3]  # the user, its membership, the page
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 12


def _identities(partner: Any) -> list[str]:
    partner.refresh_from_db()
    values = [str(partner.pk), partner.code, partner.legal_name, partner.pan, partner.gstin, partner.contact_phone]
    values += [partner.trade_name] if partner.trade_name else []
    for branch in Branch.objects.filter(partner=partner):
        values += [str(branch.pk), branch.name, branch.code]
    return [v for v in values if v]


def test_the_token_view_shows_the_other_side_only_as_region_band_quantity_prices_and_quality(
    authenticate, pair, buyer, seller
):
    token = pair["proposal"].token

    as_buyer = authenticate(buyer.owner).get(f"{MATCHES}{token}")
    as_seller = authenticate(seller.owner).get(f"{MATCHES}{token}")

    assert as_buyer.status_code == as_seller.status_code == 200
    buyer_view, seller_view = as_buyer.json(), as_seller.json()
    assert (buyer_view["side"], seller_view["side"]) == ("buyer", "seller")
    assert buyer_view["requirement"]["requirement_id"] == str(pair["requirement"].pk)
    assert buyer_view["offer"]["availability_id"] is None
    assert buyer_view["offer"]["number"] is None
    assert buyer_view["offer"]["region"] == "WEST"
    assert buyer_view["offer"]["available_kg"] == "17000.000"
    assert buyer_view["offer"]["quality"] == {
        "staple_length": "29.0",
        "micronaire": "4.2",
        "strength": "29.5",
        "trash": "3.0",
    }
    assert set(buyer_view["components"]) == {"quality", "price", "delivery", "risk"}
    assert seller_view["requirement"]["requirement_id"] is None
    assert seller_view["offer"]["availability_id"] == str(pair["offer"].pk)
    # The token is random text: a short branch code could turn up inside it by chance.
    buyer_text, seller_text = (json.dumps(view).replace(token, "<token>") for view in (buyer_view, seller_view))
    for secret in [*_identities(seller), str(pair["offer"].pk), "AV/2026-27/000042", str(seller.owner.mobile)]:
        assert secret not in buyer_text, secret
    for secret in [*_identities(buyer), str(pair["requirement"].pk), str(buyer.owner.mobile)]:
        assert secret not in seller_text, secret


def test_a_token_of_another_partner_or_organization_or_an_unknown_one_answers_404(
    authenticate, pair, organization, foreign_partner, other_org_desk_manager, api_client, buyer
):
    stranger = distinct_partner(organization, "Guntur Cotton Traders")
    token = pair["proposal"].token

    for user in (stranger.owner, foreign_partner.owner, other_org_desk_manager):
        response = authenticate(user).get(f"{MATCHES}{token}")
        assert (response.status_code, response.json()["code"]) == (404, "match_not_found")
    for odd in ("not-a-token", "%00", f"{token[:8]}%00", "a%20b", "%C3%A9t%C3%A9", "x" * 65, f"{token}%0A"):
        response = authenticate(buyer.owner).get(f"{MATCHES}{odd}")
        assert (response.status_code, response.json()["code"]) == (404, "match_not_found"), odd
    assert authenticate(stranger.owner).get(MATCHES).json()["results"] == []
    api_client.credentials()
    assert api_client.get(f"{MATCHES}{token}").status_code == 401


def test_the_desk_reads_both_postings_of_a_proposal(authenticate, pair, desk_manager):
    response = authenticate(desk_manager).get(f"{MATCHES}{pair['proposal'].token}")

    assert response.status_code == 200
    body = response.json()
    assert body["side"] == "desk"
    assert (body["offer"]["availability_id"], body["requirement"]["requirement_id"]) == (
        str(pair["offer"].pk),
        str(pair["requirement"].pk),
    )


# --- the match report -----------------------------------------------------------------------------


def test_a_requirement_with_no_offers_gets_an_empty_list_and_a_report(authenticate, cotton, buyer):
    requirement = need(buyer, cotton)
    client = authenticate(buyer.owner)

    assert requirement_match(requirement_id=requirement.pk).kept == []
    assert client.get(MATCHES).json()["results"] == []
    response = client.get(report_url(requirement))

    assert response.status_code == 200
    body = response.json()
    assert (body["evaluated"], body["passed"], body["proposable"], body["reasons"], body["near_misses"]) == (
        0,
        0,
        0,
        [],
        [],
    )
    assert body["notes"] == ["COTTON has no active premium/discount schedule: offers rank on the raw price."]


def test_the_report_counts_each_reason_and_lists_the_near_misses_best_first(authenticate, cotton, buyer, seller):
    requirement = need(buyer, cotton, max_candy="60000", points=[("Coimbatore", "50")])
    offer(seller, cotton, location=town("Pollachi"))  # passes
    offer(seller, cotton, candy="61000", location=town("Pollachi"))  # price only
    offer(seller, cotton, candy="60500", location=town("Pollachi"))  # price only, cheaper: scores higher
    offer(seller, cotton, location=town("Rajkot"))  # radius only
    offer(seller, cotton, candy="61000", location=town("Rajkot"))  # price and radius
    offer(seller, cotton, location=town("Pollachi"), visibility=Visibility.PRIVATE)  # visibility only
    offer(
        seller,
        cotton,
        location=town("Pollachi"),
        quality={"staple_length": "28.0", "micronaire": "4.2", "strength": "29"},
    )

    body = authenticate(buyer.owner).get(report_url(requirement)).json()

    assert (body["evaluated"], body["passed"], body["proposable"]) == (7, 1, 1)
    assert body["reasons"] == [
        {"code": "price_above_max", "count": 3},
        {"code": "out_of_radius", "count": 2},
        {"code": "quality:staple_length:min", "count": 1},
        {"code": "visibility", "count": 1},
    ]
    misses = body["near_misses"]
    assert len(misses) == 5
    assert sorted(m["failed"] for m in misses) == sorted(
        ["price_above_max", "price_above_max", "out_of_radius", "visibility", "quality:staple_length:min"]
    )
    assert [m["score"] for m in misses] == sorted((m["score"] for m in misses), reverse=True)
    assert all(set(m) >= {"region", "rating_band", "available_kg", "price_per_kg"} for m in misses)
    assert str(seller.pk) not in json.dumps(body)


def test_the_report_is_scoped_like_the_requirement(
    authenticate, cotton, buyer, seller, desk_manager, other_org_desk_manager
):
    requirement = need(buyer, cotton)

    assert authenticate(desk_manager).get(report_url(requirement)).status_code == 200
    for user in (seller.owner, other_org_desk_manager):
        response = authenticate(user).get(report_url(requirement))
        assert (response.status_code, response.json()["code"]) == (404, "requirement_not_found")

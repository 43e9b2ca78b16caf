"""The trades API end to end: requirement + availability -> match token -> negotiation -> offers
-> accept (Idempotency-Key required) -> trade -> ship -> deliver -> complete; refusals with their
codes; the trade list scoped and at constant queries; the confirmation PDF; the live topic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import OutboxEvent
from apps.matching.services.proposals import requirement_match
from apps.tradedesk.tests import factories as desk_factories
from apps.trades.models import Negotiation, Trade
from apps.trades.realtime import may_follow_negotiation, negotiation_topic, route_negotiation_event
from apps.trades.tests.factories import credit, offer, offer_data, place, start


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, (Decimal, date, datetime)):
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    if hasattr(value, "hex") and not isinstance(value, (str, bytes)):
        return str(value)
    return value


def as_(authenticate, user):
    return authenticate(user)


@pytest.mark.django_db
def test_the_whole_loop_runs_through_the_api(authenticate, seller, buyer, cotton, financial_year, desk_manager):
    place(seller, city="Rajkot", state_code="24")
    place(buyer, city="Coimbatore", state_code="33")
    credit(buyer)
    rajkot = desk_factories.location()
    # The mill buys ex-gin around Rajkot; the ginner offers 100 bales there.
    requirement_body = jsonable(
        desk_factories.requirement_input(cotton, delivery_locations=[{"location_id": rajkot.pk, "radius_km": "50"}])
    )
    client = as_(authenticate, buyer.owner)
    created = client.post("/api/v1/requirements/", requirement_body, format="json")
    assert created.status_code == 201, created.json()
    requirement_id = created.json()["id"]
    assert client.post(f"/api/v1/requirements/{requirement_id}/publish").status_code == 200
    client = as_(authenticate, seller.owner)
    created = client.post("/api/v1/availabilities/", jsonable(desk_factories.availability_input(cotton)), format="json")
    assert created.status_code == 201, created.json()
    availability_id = created.json()["id"]
    assert client.post(f"/api/v1/availabilities/{availability_id}/submit").status_code == 200
    approved = as_(authenticate, desk_manager).post(f"/api/v1/availabilities/{availability_id}/approve")
    assert approved.status_code == 200, approved.json()
    requirement_match(requirement_id=UUID(requirement_id))  # what matching's event handler runs

    client = as_(authenticate, buyer.owner)
    matches = client.get("/api/v1/matches/").json()["results"]
    assert len(matches) == 1
    token = matches[0]["token"]
    started = client.post("/api/v1/negotiations/", {"match_token": token}, format="json")
    assert started.status_code == 201, started.json()
    negotiation = started.json()
    assert (negotiation["status"], negotiation["seller"]["code"]) == ("INITIATED", seller.code)
    n = f"/api/v1/negotiations/{negotiation['id']}"
    bid = client.post(f"{n}/offers/", jsonable(offer_data(price=Decimal("59000"))), format="json")
    assert bid.status_code == 201, bid.json()
    assert client.post(f"{n}/offers/", jsonable(offer_data()), format="json").json()["code"] == "not_your_turn"

    client = as_(authenticate, seller.owner)
    ask = client.post(f"{n}/offers/", jsonable(offer_data(price=Decimal("60500"))), format="json")
    assert ask.status_code == 201
    assert client.post(f"{n}/messages/", {"body": "Loading Monday"}, format="json").status_code == 201

    client = as_(authenticate, buyer.owner)
    without_key = client.post(f"{n}/accept", {}, format="json")
    assert (without_key.status_code, without_key.json()["code"]) == (400, "idempotency_key_required")
    accepted = client.post(f"{n}/accept", {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")
    assert accepted.status_code == 201, accepted.json()
    replay = client.post(f"{n}/accept", {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")
    assert (replay.status_code, replay["Idempotent-Replayed"], replay.json()["id"]) == (
        201,
        "true",
        accepted.json()["id"],
    )
    trade = accepted.json()
    assert (trade["status"], trade["price"], trade["quantity_kg"], trade["tax_kind"]) == (
        "CONFIRMED",
        "60500.00",
        "8500.000",
        "INTER_STATE",
    )
    assert Trade.objects.count() == 1
    t = f"/api/v1/trades/{trade['id']}"
    assert client.post(f"{t}/status", {"status": "IN_TRANSIT"}, format="json").json()["code"] == "wrong_side"
    shipped = as_(authenticate, seller.owner).post(f"{t}/status", {"status": "IN_TRANSIT"}, format="json")
    assert shipped.json()["status"] == "IN_TRANSIT"
    delivered = as_(authenticate, buyer.owner).post(f"{t}/status", {"status": "DELIVERED"}, format="json")
    assert delivered.json()["status"] == "DELIVERED"
    completed = as_(authenticate, desk_manager).post(f"{t}/status", {"status": "COMPLETED"}, format="json")
    assert completed.json()["status"] == "COMPLETED"
    types = set(OutboxEvent.objects.filter(type__startswith="trades.").values_list("type", flat=True))
    assert {
        "trades.negotiation.started",
        "trades.negotiation.offer_made",
        "trades.negotiation.message_posted",
        "trades.negotiation.accepted",
        "trades.trade.created",
        "trades.trade.status_changed",
    } <= types


@pytest.mark.django_db
def test_a_token_of_another_organization_is_not_found_and_nothing_is_written(deal, foreign_partner, authenticate):
    response = authenticate(foreign_partner.owner).post(
        "/api/v1/negotiations/", {"match_token": deal.match.token}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (404, "match_not_found")
    assert not Negotiation.objects.exists()


@pytest.mark.django_db
def test_a_third_partner_sees_no_negotiation_and_no_trade(deal, third_partner, authenticate):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    from apps.trades.services.trades import negotiation_accept

    trade = negotiation_accept(actor=deal.seller.owner, negotiation_id=negotiation.pk)
    client = authenticate(third_partner.owner)

    assert client.get(f"/api/v1/negotiations/{negotiation.pk}").status_code == 404
    assert (
        client.post(f"/api/v1/negotiations/{negotiation.pk}/offers/", jsonable(offer_data()), format="json").status_code
        == 404
    )
    assert client.get(f"/api/v1/trades/{trade.pk}").status_code == 404
    assert client.get("/api/v1/trades/").json()["results"] == []


@pytest.mark.django_db
def test_the_trade_list_is_scoped_and_costs_the_same_queries_for_any_page(deal, authenticate, desk_manager):
    from apps.trades.services.trades import negotiation_accept

    for _ in range(3):
        negotiation = start(deal)
        offer(negotiation, deal.buyer.owner, quantity=Decimal("10"))
        negotiation_accept(actor=deal.seller.owner, negotiation_id=negotiation.pk)
    counts = []
    for who in (deal.buyer.owner, desk_manager):
        client = authenticate(who)
        for size in (1, 3):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/api/v1/trades/?page_size={size}")
            assert response.status_code == 200
            assert len(response.json()["results"]) == size
            counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[2] == counts[3]


@pytest.mark.django_db
def test_the_confirmation_is_a_real_pdf_with_the_trade_number(deal, authenticate):
    from apps.trades.services.trades import negotiation_accept

    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    trade = negotiation_accept(actor=deal.seller.owner, negotiation_id=negotiation.pk)

    response = authenticate(deal.seller.owner).get(f"/api/v1/trades/{trade.pk}/confirmation.pdf")

    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response.content.startswith(b"%PDF")
    assert trade.number.encode() in response.content
    assert b"71705.75" in response.content


@pytest.mark.django_db
def test_only_the_parties_and_the_staff_follow_a_negotiation_live(
    deal, third_partner, desk_manager, other_org_desk_manager
):
    negotiation = start(deal)
    topic = negotiation_topic(negotiation.pk)

    allowed = [may_follow_negotiation(u, topic) for u in (deal.buyer.owner, deal.seller.owner, desk_manager)]
    refused = [may_follow_negotiation(u, topic) for u in (third_partner.owner, other_org_desk_manager)]

    assert allowed == [True, True, True]
    assert refused == [False, False]
    from apps.events.envelope import EventEnvelope

    event = OutboxEvent.objects.get(type="trades.negotiation.started")
    groups = sorted(a.group for a, _ in route_negotiation_event(EventEnvelope.from_row(event)))
    assert groups == sorted([topic, f"partner.{deal.buyer.pk}", f"partner.{deal.seller.pk}"])


@pytest.mark.django_db
def test_an_offers_type_errors_and_rule_errors_come_in_one_answer(deal, authenticate):
    negotiation = start(deal)
    body = {**jsonable(offer_data()), "price": "cheap", "quantity_unit": "TONNE", "quantity": "0"}

    response = authenticate(deal.buyer.owner).post(
        f"/api/v1/negotiations/{negotiation.pk}/offers/", body, format="json"
    )

    assert response.status_code == 400
    assert (response.json()["type"], response.json()["code"]) == ("validation_error", "validation_failed")
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
        ("price", "invalid"),
        ("quantity_unit", "unknown_unit"),
        ("quantity", "quantity_invalid"),
    ]
    assert not negotiation.offers.exists()

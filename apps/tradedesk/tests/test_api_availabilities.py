"""`/api/v1/availabilities/` (SPEC section 13): who reads what, create and change, the
transitions with their permission matrix (refusals change nothing), the desk's reservations with
a required Idempotency-Key, and a list whose query count does not grow with the page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.events.models import OutboxEvent
from apps.tradedesk.models import Availability, Reservation
from apps.tradedesk.services import availabilities as services
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

# Ends before it starts (now), within the accepted range of dates (INPUT_DATES_*).
_YESTERDAY = (timezone.now() - timedelta(days=1)).isoformat()

BASE = "/api/v1/availabilities/"


def url(availability: Any, action: str = "") -> str:
    return f"{BASE}{availability.pk}" + (f"/{action}" if action else "")


def body(cotton: Any, **overrides: Any) -> dict[str, Any]:
    """The JSON a client sends (numbers as strings or JSON numbers, dates as ISO text)."""
    data = factories.availability_input(cotton, **overrides)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        out[key] = (
            value.isoformat()
            if hasattr(value, "isoformat")
            else str(value)
            if not isinstance(value, (dict, list, bool))
            else value
        )
    return out


def tradedesk_events() -> Any:
    return OutboxEvent.objects.filter(type__startswith="tradedesk.availability.")


def draft(seller: Any, cotton: Any, **overrides: Any) -> Availability:
    return services.availability_create(
        actor=seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton, **overrides)
    )


def snapshot(availability: Availability) -> dict[str, Any]:
    return Availability.objects.filter(pk=availability.pk).values().get()


# --- create and read ------------------------------------------------------------------------------


def test_a_seller_posts_an_availability_for_its_own_partner(seller, cotton, authenticate):
    client = authenticate(seller.owner)

    response = client.post(BASE, body(cotton), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["partner_id"], data["status"], data["number"]) == (str(seller.pk), "DRAFT", "")
    assert (data["quantity"], data["quantity_unit"], data["total_kg"], data["available_kg"]) == (
        "100.000",
        "BALE",
        "17000.000",
        "17000.000",
    )
    assert (data["price"], data["price_unit"], data["price_per_kg"]) == ("60000.00", "CANDY", "168.7194")
    assert (data["commodity_code"], data["variety_code"], data["state_code"], data["region"]) == (
        "COTTON",
        "SHANKAR-6",
        "GJ",
        "WEST",
    )
    assert data["timezone"] == "Asia/Kolkata"
    assert Availability.objects.get().created_by == seller.owner


def test_quality_given_as_json_numbers_is_kept_as_written(seller, cotton, authenticate):
    payload = body(cotton)
    payload["quality"] = {"staple_length": 29.5, "micronaire": 4.2, "strength": 30, "color_grade": "31-1"}

    response = authenticate(seller.owner).post(BASE, payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["quality"] == {
        "staple_length": "29.5",
        "micronaire": "4.2",
        "strength": "30",
        "color_grade": "31-1",
    }


@pytest.mark.parametrize(
    ("overrides", "code", "attr"),
    [
        ({"quantity": "0"}, "quantity_invalid", "quantity"),
        ({"price": "-1"}, "price_invalid", "price"),
        ({"min_order": "500"}, "min_order_invalid", "min_order"),
        ({"quality": {"staple_length": "40", "micronaire": "4.2", "strength": "29"}}, "quality_invalid",
         "quality.staple_length"),
        ({"available_until": _YESTERDAY}, "window_invalid", "available_until"),
        ({"quantity_unit": "TONNE"}, "unknown_unit", "quantity_unit"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_with_the_rules_code_and_nothing_is_written(
    seller, cotton, authenticate, overrides, code, attr
):
    payload = {**body(cotton), **overrides}

    response = authenticate(seller.owner).post(BASE, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["attr"] == attr
    assert Availability.objects.count() == 0
    assert tradedesk_events().count() == 0


def test_staff_name_the_partner_they_post_for(seller, cotton, authenticate, desk_manager):
    client = authenticate(desk_manager)

    missing = client.post(BASE, body(cotton), format="json")
    assert (missing.status_code, missing.json()["code"], missing.json()["errors"][0]["attr"]) == (
        400,
        "required",
        "partner_id",
    )
    assert Availability.objects.count() == 0

    response = client.post(BASE, {**body(cotton), "partner_id": str(seller.pk)}, format="json")
    assert response.status_code == 201
    assert response.json()["created_by_id"] == str(desk_manager.pk)


@pytest.mark.parametrize(("who", "status"), [("buyer_owner", 404), ("seller_viewer", 403), ("foreign", 404)])
def test_others_cannot_post_for_the_seller(request, seller, buyer, foreign_partner, cotton, authenticate, who, status):
    actor = {"buyer_owner": buyer.owner, "foreign": foreign_partner.owner}.get(who) or request.getfixturevalue(who)

    response = authenticate(actor).post(BASE, {**body(cotton), "partner_id": str(seller.pk)}, format="json")

    assert response.status_code == status
    assert Availability.objects.count() == 0
    assert tradedesk_events().count() == 0


def test_a_suspended_partner_cannot_post(seller, cotton, authenticate, desk_manager):
    from apps.partners.models import BusinessPartner

    BusinessPartner.objects.filter(pk=seller.pk).update(status="SUSPENDED")

    response = authenticate(desk_manager).post(BASE, {**body(cotton), "partner_id": str(seller.pk)}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "partner_not_active")
    assert Availability.objects.count() == 0


def test_each_reader_sees_only_what_its_scope_allows(
    seller,
    buyer,
    foreign_partner,
    cotton,
    authenticate,
    desk_manager,
    kyc_officer,
    other_org_desk_manager,
    seller_viewer,
):
    mine = factories.availability(seller, cotton)
    theirs = factories.availability(buyer, cotton)
    factories.availability(foreign_partner, cotton)

    def listed(user: Any) -> set[str]:
        response = authenticate(user).get(BASE)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert listed(seller.owner) == listed(seller_viewer) == {str(mine.pk)}
    assert listed(buyer.owner) == {str(theirs.pk)}
    assert listed(desk_manager) == {str(mine.pk), str(theirs.pk)}
    assert listed(other_org_desk_manager) == {str(Availability.objects.get(partner=foreign_partner).pk)}
    assert authenticate(kyc_officer).get(BASE).status_code == 403

    assert authenticate(seller.owner).get(url(mine)).status_code == 200
    assert authenticate(buyer.owner).get(url(mine)).status_code == 404
    assert authenticate(other_org_desk_manager).get(url(mine)).status_code == 404
    assert authenticate(desk_manager).get(url(mine)).json()["partner_id"] == str(seller.pk)
    assert authenticate(seller.owner).get(f"{BASE}{uuid.uuid4()}").status_code == 404


def test_anonymous_callers_are_refused(seller, cotton, api_client):
    availability = factories.availability(seller, cotton)

    assert api_client.get(BASE).status_code == 401
    assert api_client.get(url(availability)).status_code == 401
    assert api_client.post(url(availability, "cancel"), {}, format="json").status_code == 401


def test_the_list_filters_by_status_and_commodity(seller, cotton, authenticate, desk_manager):
    from apps.commodities.tests.factories import cotton as build_cotton

    kapas = build_cotton("KAPAS")
    active = factories.availability(seller, cotton)
    factories.availability(seller, cotton, status="DRAFT")
    other = factories.availability(seller, kapas)
    client = authenticate(desk_manager)

    by_status = client.get(BASE, {"status": "ACTIVE", "commodity": str(cotton.pk)}).json()["results"]
    assert [row["id"] for row in by_status] == [str(active.pk)]
    by_commodity = client.get(BASE, {"commodity": str(kapas.pk)}).json()["results"]
    assert [row["id"] for row in by_commodity] == [str(other.pk)]
    assert client.get(BASE, {"partner": str(seller.pk)}).json()["results"].__len__() == 3
    bad = client.get(BASE, {"status": "BOGUS", "commodity": "cotton"})
    assert bad.status_code == 400
    assert {e["attr"] for e in bad.json()["errors"]} == {"status", "commodity"}


def test_the_list_pages_with_a_cursor(seller, cotton, authenticate):
    rows = [factories.availability(seller, cotton) for _ in range(3)]
    client = authenticate(seller.owner)

    first = client.get(BASE, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    seen = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(str(r.pk) for r in rows)
    assert second["next"] is None


def _list_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(BASE, {"page_size": 50})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("reader", ["owner", "desk_manager"])
def test_the_list_costs_the_same_queries_for_2_and_20_rows(request, seller, buyer, cotton, authenticate, reader):
    actor = seller.owner if reader == "owner" else request.getfixturevalue(reader)
    client = authenticate(actor)
    variety = cotton.varieties.first()
    from apps.commodities.models import TermKind
    from apps.commodities.tests.factories import TradeTermFactory

    term = TradeTermFactory(kind=TermKind.DELIVERY, code="EX_GIN")
    for _ in range(2):
        factories.availability(seller, cotton, variety=variety, delivery_term=term).invited_partners.set([buyer])
    small = _list_queries(client)
    for _ in range(18):
        factories.availability(seller, cotton, variety=variety, delivery_term=term).invited_partners.set([buyer])

    large = _list_queries(client)

    assert small == large == (4 if reader == "owner" else 5)
    results = client.get(BASE, {"page_size": 50}).json()["results"]
    assert len(results) == 20
    assert results[0]["invited_partner_ids"] == [str(buyer.pk)]
    assert results[0]["delivery_term_code"] == "EX_GIN"


# --- change and transitions -------------------------------------------------------------------------


def test_a_draft_is_patched_and_a_submitted_one_is_not(seller, cotton, authenticate, financial_year):
    availability = draft(seller, cotton)
    client = authenticate(seller.owner)

    patched = client.patch(url(availability), {"price": "61500", "partial_allowed": False}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["price"], patched.json()["price_per_kg"], patched.json()["partial_allowed"]) == (
        "61500.00",
        "172.9374",
        False,
    )

    submitted = client.post(url(availability, "submit"))
    assert submitted.status_code == 200
    assert (submitted.json()["status"], submitted.json()["number"]) == (
        "PENDING_APPROVAL",
        f"AV/{financial_year.label}/000001",
    )
    before = snapshot(availability)

    refused = client.patch(url(availability), {"price": "1"}, format="json")

    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["current_state"]) == ("invalid_transition", "PENDING_APPROVAL")
    assert snapshot(availability) == before


def test_a_viewer_cannot_patch(seller, seller_viewer, cotton, authenticate):
    availability = draft(seller, cotton)
    before = snapshot(availability)

    response = authenticate(seller_viewer).patch(url(availability), {"price": "1"}, format="json")

    assert response.status_code == 403
    assert snapshot(availability) == before


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("foreign_owner", 404), ("other_org_desk_manager", 404), ("buyer_owner", 404),
     ("seller_viewer", 403), ("owner", 200)],
)  # fmt: skip
def test_submit_permission_matrix(request, seller, buyer, foreign_partner, cotton, api_client, authenticate,
                                  financial_year, who, status):  # fmt: skip
    availability = draft(seller, cotton)
    before = snapshot(availability)
    actor = {"owner": seller.owner, "buyer_owner": buyer.owner, "foreign_owner": foreign_partner.owner}.get(who)
    if actor is None and who != "anonymous":
        actor = request.getfixturevalue(who)
    client = api_client if who == "anonymous" else authenticate(actor)

    response = client.post(url(availability, "submit"))

    assert response.status_code == status
    if status != 200:
        assert snapshot(availability) == before
        assert tradedesk_events().filter(type="tradedesk.availability.submitted").count() == 0
    else:
        assert response.json()["status"] == "PENDING_APPROVAL"


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 403), ("kyc_officer", 403), ("other_org_desk_manager", 404), ("desk_manager", 200)],
)
def test_approve_permission_matrix(request, seller, cotton, authenticate, financial_year, who, status):
    availability = draft(seller, cotton)
    services.availability_submit(actor=seller.owner, availability_id=availability.pk)
    before = snapshot(availability)
    actor = seller.owner if who == "owner" else request.getfixturevalue(who)

    response = authenticate(actor).post(url(availability, "approve"), {"note": "ok"}, format="json")

    assert response.status_code == status
    if status == 200:
        assert (response.json()["status"], response.json()["decision_note"]) == ("ACTIVE", "ok")
    else:
        assert snapshot(availability) == before
        assert tradedesk_events().filter(type="tradedesk.availability.approved").count() == 0


def test_the_desk_rejects_with_a_reason(seller, cotton, authenticate, financial_year, desk_manager):
    availability = draft(seller, cotton)
    services.availability_submit(actor=seller.owner, availability_id=availability.pk)
    client = authenticate(desk_manager)

    without = client.post(url(availability, "reject"), {}, format="json")
    assert without.status_code == 400
    assert snapshot(availability)["status"] == "PENDING_APPROVAL"

    response = client.post(url(availability, "reject"), {"reason": "Micronaire report missing"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == ("REJECTED", "Micronaire report missing")


def test_approving_a_draft_is_a_409_with_the_current_state(seller, cotton, authenticate, desk_manager):
    availability = draft(seller, cotton)

    response = authenticate(desk_manager).post(url(availability, "approve"), {}, format="json")

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["current_state"], response.json()["allowed_states"]) == (
        "invalid_transition",
        "DRAFT",
        ["PENDING_APPROVAL"],
    )
    assert snapshot(availability)["status"] == "DRAFT"


def test_the_seller_cancels_and_a_cancelled_one_stays_cancelled(seller, cotton, authenticate):
    availability = factories.availability(seller, cotton)
    client = authenticate(seller.owner)

    response = client.post(url(availability, "cancel"), {"reason": "Sold elsewhere"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "CANCELLED")

    again = client.post(url(availability, "cancel"), {}, format="json")
    assert (again.status_code, again.json()["current_state"]) == (409, "CANCELLED")
    assert tradedesk_events().filter(type="tradedesk.availability.cancelled").count() == 1


# --- the desk's reservations -------------------------------------------------------------------------


def reservations_url(availability: Any) -> str:
    return f"{url(availability)}/reservations"


def test_the_desk_reserves_with_an_idempotency_key_and_a_retry_replays(
    seller, buyer, cotton, authenticate, desk_manager
):
    availability = factories.availability(seller, cotton)
    client = authenticate(desk_manager)
    payload = {"quantity_kg": "1700", "reference": "PHONE-12", "buyer_id": str(buyer.pk), "ttl_minutes": 60}

    first = client.post(reservations_url(availability), payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post(reservations_url(availability), payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    data = first.json()
    assert (data["quantity_kg"], data["status"], data["purpose"], data["available_kg"], data["reserved_kg"]) == (
        "1700.000",
        "ACTIVE",
        "MANUAL",
        "15300.000",
        "1700.000",
    )
    reservation = Reservation.objects.get()
    assert reservation.created_by == desk_manager
    assert timezone.now() + timedelta(minutes=59) < reservation.expires_at <= timezone.now() + timedelta(minutes=60)


def test_a_reservation_without_an_idempotency_key_is_refused(seller, cotton, authenticate, desk_manager):
    availability = factories.availability(seller, cotton)

    response = authenticate(desk_manager).post(reservations_url(availability), {"quantity_kg": "100"}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")
    assert Reservation.objects.count() == 0
    assert snapshot(availability)["reserved_kg"] == Decimal("0")


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 404), ("kyc_officer", 403), ("other_org_desk_manager", 404), ("desk_manager", 201)]
)
def test_only_the_desk_reserves_over_the_api(request, seller, cotton, authenticate, who, status):
    availability = factories.availability(seller, cotton)
    actor = seller.owner if who == "owner" else request.getfixturevalue(who)
    before = snapshot(availability)

    response = authenticate(actor).post(
        reservations_url(availability), {"quantity_kg": "100"}, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{who}"
    )

    assert response.status_code == status
    reserved = OutboxEvent.objects.filter(type="tradedesk.availability.reserved").count()
    if status == 201:
        assert (Reservation.objects.count(), reserved) == (1, 1)
        assert snapshot(availability)["reserved_kg"] == Decimal("100.000")
    else:
        assert response.json()["code"] == ("availability_not_found" if status == 404 else "permission_denied")
        assert (Reservation.objects.count(), reserved) == (0, 0)
        assert snapshot(availability) == before


def test_reserving_more_than_is_available_is_a_409(seller, cotton, authenticate, desk_manager):
    availability = factories.availability(seller, cotton, kg=Decimal("1000"))
    before = snapshot(availability)

    response = authenticate(desk_manager).post(
        reservations_url(availability), {"quantity_kg": "1000.5"}, format="json", HTTP_IDEMPOTENCY_KEY="too-much"
    )

    assert (response.status_code, response.json()["code"], response.json()["available_kg"]) == (
        409,
        "insufficient_quantity",
        "1000.000",
    )
    assert Reservation.objects.count() == 0
    assert snapshot(availability) == before
    assert not OutboxEvent.objects.filter(type="tradedesk.availability.reserved").exists()


def test_the_desk_releases_a_reservation(seller, cotton, authenticate, desk_manager, other_org_desk_manager):
    availability = factories.availability(seller, cotton)
    client = authenticate(desk_manager)
    created = client.post(
        reservations_url(availability), {"quantity_kg": "500"}, format="json", HTTP_IDEMPOTENCY_KEY="r"
    )
    release_url = f"/api/v1/reservations/{created.json()['id']}/release"

    assert authenticate(other_org_desk_manager).post(release_url, {}, format="json").status_code == 404
    assert snapshot(availability)["reserved_kg"] == Decimal("500.000")

    response = authenticate(desk_manager).post(release_url, {"reason": "buyer withdrew"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["available_kg"], response.json()["reserved_kg"]) == (
        "RELEASED",
        "17000.000",
        "0.000",
    )
    again = authenticate(desk_manager).post(release_url, {}, format="json")
    assert (again.status_code, again.json()["current_state"]) == (409, "RELEASED")

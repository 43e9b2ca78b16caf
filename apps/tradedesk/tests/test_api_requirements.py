"""/api/v1/requirements/: who reads and writes, the transition endpoints, refusals that write
nothing, constant queries on the list, and the admin screen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner
from apps.tradedesk import events
from apps.tradedesk.models import Requirement, RequirementDeliveryLocation
from apps.tradedesk.services import requirements as services
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

# A window that ends before it starts, within the accepted range of dates (INPUT_DATES_*).
_DAY_30 = str(date.today() + timedelta(days=30))
_DAY_60 = str(date.today() + timedelta(days=60))

URL = "/api/v1/requirements/"


def _body(cotton: Any, **overrides: Any) -> dict[str, Any]:
    """The service input as JSON."""
    data = factories.requirement_input(cotton, **overrides)

    def jsonable(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: jsonable(v) for k, v in value.items()}
        if isinstance(value, list):
            return [jsonable(v) for v in value]
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value if isinstance(value, (str, int, type(None))) else str(value)

    return jsonable(data)


def _create(buyer: Any, cotton: Any, **overrides: Any) -> Requirement:
    return services.requirement_create(
        actor=buyer.owner, partner_id=buyer.pk, fields=factories.requirement_fields(cotton, **overrides)
    )


def _requirement_events() -> list[str]:
    # In the order they were emitted (without an ORDER BY the heap's order, which a row's update moves).
    return list(
        OutboxEvent.objects.filter(type__startswith="tradedesk.requirement.")
        .order_by("position")
        .values_list("type", flat=True)
    )


def _ids(response: Any) -> list[str]:
    return sorted(row["id"] for row in response.json()["results"])


# --- create ---------------------------------------------------------------------------------------


def test_a_buyer_posts_a_draft_for_its_own_partner(authenticate, buyer, cotton):
    response = authenticate(buyer.owner).post(URL, _body(cotton), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["number"], body["partner_id"], body["commodity_code"]) == (
        "DRAFT",
        "",
        str(buyer.pk),
        "COTTON",
    )
    assert (body["min_kg"], body["max_kg"], body["preferred_kg"], body["fulfilled_kg"]) == (
        "8500.000",
        "34000.000",
        "17000.000",
        "0.000",
    )
    assert (body["max_price_per_kg"], body["preferred_price_per_kg"], body["price_unit"]) == (
        "174.3434",
        "168.7194",
        "CANDY",
    )
    assert [(row["name"], row["state_code"], row["radius_km"]) for row in body["delivery_locations"]] == [
        ("Coimbatore", "TN", "50.00"),
        ("Tiruppur", "TN", "30.00"),
    ]
    assert (body["state_code"], body["region"], body["invited_partner_ids"]) == ("TN", "SOUTH", [])
    assert Requirement.objects.get().partner_id == buyer.pk


def test_the_desk_posts_for_a_named_partner_and_must_name_one(authenticate, desk_manager, buyer, cotton):
    client = authenticate(desk_manager)

    unnamed = client.post(URL, _body(cotton), format="json")
    named = client.post(URL, {**_body(cotton), "partner_id": str(buyer.pk)}, format="json")

    assert (unnamed.status_code, unnamed.json()["code"], unnamed.json()["errors"][0]["attr"]) == (
        400,
        "required",
        "partner_id",
    )
    assert named.status_code == 201
    assert named.json()["created_by_id"] == str(desk_manager.pk)


def test_a_spec_given_as_json_numbers_is_kept_as_written(authenticate, buyer, cotton):
    spec = {
        "staple_length": {"min": 28.5, "preferred": 29},
        "micronaire": {"min": 3.8, "max": 4.5},
        "color_grade": {"accepted": ["31-1", "41-1"]},
    }

    response = authenticate(buyer.owner).post(URL, {**_body(cotton), "spec": spec}, format="json")

    assert response.status_code == 201, response.json()
    written = {
        "staple_length": {"min": "28.5", "preferred": "29"},
        "micronaire": {"min": "3.8", "max": "4.5"},
        "color_grade": {"accepted": ["31-1", "41-1"]},
    }
    assert response.json()["spec"] == written
    assert Requirement.objects.get().spec == written


def test_a_spec_number_out_of_range_is_refused_as_json_too(authenticate, buyer, cotton):
    spec = {"micronaire": {"min": 3.8, "max": 7.5}}

    response = authenticate(buyer.owner).post(URL, {**_body(cotton), "spec": spec}, format="json")

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["errors"][0]["attr"]) == ("spec_invalid", "spec.micronaire.max")
    assert Requirement.objects.count() == 0
    assert _requirement_events() == []


def test_a_spec_changed_with_json_numbers_is_kept_as_written(authenticate, buyer, cotton):
    requirement = _create(buyer, cotton)

    response = authenticate(buyer.owner).patch(
        f"{URL}{requirement.pk}", {"spec": {"micronaire": {"min": 3.6}}}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["spec"] == {"micronaire": {"min": "3.6"}}
    requirement.refresh_from_db()
    assert requirement.spec == {"micronaire": {"min": "3.6"}}


@pytest.mark.parametrize(
    ("overrides", "code", "attr"),
    [
        ({"max_price": "0"}, "price_invalid", "max_price"),
        ({"preferred_price": "63000"}, "preferred_above_max", "preferred_price"),
        ({"min_quantity": "-1"}, "quantity_invalid", "min_quantity"),
        ({"spec": {"micronaire": {"max": "7.5"}}}, "spec_invalid", "spec.micronaire.max"),
        ({"delivery_from": _DAY_60, "delivery_until": _DAY_30}, "window_invalid", "delivery_until"),
    ],
)
def test_a_refused_post_answers_the_rule_and_writes_nothing(authenticate, buyer, cotton, overrides, code, attr):
    response = authenticate(buyer.owner).post(URL, {**_body(cotton), **overrides}, format="json")

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["errors"][0]["attr"]) == (code, attr)
    assert Requirement.objects.count() == 0
    assert RequirementDeliveryLocation.objects.count() == 0
    assert _requirement_events() == []


def test_a_suspended_buyer_posts_nothing(authenticate, buyer, cotton):
    BusinessPartner.objects.filter(pk=buyer.pk).update(status="SUSPENDED")

    response = authenticate(buyer.owner).post(URL, _body(cotton), format="json")

    assert (response.status_code, response.json()["code"]) == (403, "partner_suspended")
    assert Requirement.objects.count() == 0


def test_a_viewer_may_not_post(authenticate, buyer_viewer, cotton):
    response = authenticate(buyer_viewer).post(URL, _body(cotton), format="json")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Requirement.objects.count() == 0


# --- read -----------------------------------------------------------------------------------------


def test_the_buyers_users_and_the_organizations_staff_read_it_others_do_not(
    authenticate,
    buyer,
    buyer_viewer,
    seller,
    desk_manager,
    kyc_officer,
    other_org_desk_manager,
    foreign_partner,
    cotton,
):
    mine = _create(buyer, cotton)
    theirs = _create(seller, cotton)

    assert _ids(authenticate(buyer_viewer).get(URL)) == [str(mine.pk)]
    assert _ids(authenticate(seller.owner).get(URL)) == [str(theirs.pk)]
    assert _ids(authenticate(desk_manager).get(URL)) == sorted([str(mine.pk), str(theirs.pk)])
    assert _ids(authenticate(other_org_desk_manager).get(URL)) == []
    assert _ids(authenticate(foreign_partner.owner).get(URL)) == []
    assert authenticate(kyc_officer).get(URL).status_code == 403

    assert authenticate(buyer_viewer).get(f"{URL}{mine.pk}").status_code == 200
    for outsider in (seller.owner, other_org_desk_manager, foreign_partner.owner):
        response = authenticate(outsider).get(f"{URL}{mine.pk}")
        assert (response.status_code, response.json()["code"]) == (404, "requirement_not_found")


def test_the_list_filters_by_status_commodity_and_urgency(authenticate, desk_manager, buyer, cotton, financial_year):
    from apps.commodities.tests.factories import cotton as build_cotton

    kapas = build_cotton("KAPAS")
    draft = _create(buyer, cotton, urgency="URGENT")
    live = services.requirement_publish(actor=buyer.owner, requirement_id=_create(buyer, cotton).pk)
    other = _create(buyer, kapas, spec={})
    client = authenticate(desk_manager)

    assert _ids(client.get(URL, {"status": "ACTIVE"})) == [str(live.pk)]
    assert _ids(client.get(URL, {"urgency": "URGENT"})) == [str(draft.pk)]
    assert _ids(client.get(URL, {"commodity": str(kapas.pk)})) == [str(other.pk)]
    assert _ids(client.get(URL, {"partner": str(buyer.pk), "status": "DRAFT"})) == sorted(
        [str(draft.pk), str(other.pk)]
    )
    bad = client.get(URL, {"status": "SLEEPING"})
    assert (bad.status_code, bad.json()["errors"][0]["attr"]) == (400, "status")


def test_the_list_costs_the_same_queries_for_one_requirement_or_many(authenticate, desk_manager, buyer, seller, cotton):
    client = authenticate(desk_manager)
    _create(buyer, cotton, visibility="RESTRICTED", invited_partner_ids=[seller.pk])
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(URL).json()["results"]) == 1
    for _ in range(5):
        _create(buyer, cotton, visibility="RESTRICTED", invited_partner_ids=[seller.pk])
    with CaptureQueriesContext(connection) as six:
        response = client.get(URL, {"page_size": 3})
        assert len(response.json()["results"]) == 3
    with CaptureQueriesContext(connection) as all_six:
        response = client.get(URL)
        assert len(response.json()["results"]) == 6

    assert len(one) == len(six) == len(all_six)
    assert response.json()["results"][0]["invited_partner_ids"] == [str(seller.pk)]


def test_the_list_pages_with_a_cursor(authenticate, buyer, cotton):
    made = [_create(buyer, cotton) for _ in range(3)]
    client = authenticate(buyer.owner)

    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [row["id"] for row in first["results"] + second["results"]] == [str(r.pk) for r in reversed(made)]


# --- change and transitions -----------------------------------------------------------------------


def test_a_live_requirement_changes_its_price_but_not_its_urgency(authenticate, buyer, cotton, financial_year):
    requirement = services.requirement_publish(actor=buyer.owner, requirement_id=_create(buyer, cotton).pk)
    client = authenticate(buyer.owner)

    priced = client.patch(f"{URL}{requirement.pk}", {"max_price": "63000"}, format="json")
    urgent = client.patch(f"{URL}{requirement.pk}", {"urgency": "URGENT"}, format="json")

    assert (priced.status_code, priced.json()["max_price"], priced.json()["max_price_per_kg"]) == (
        200,
        "63000.00",
        "177.1554",
    )
    assert (urgent.status_code, urgent.json()["code"], urgent.json()["current_state"]) == (
        409,
        "field_not_editable",
        "ACTIVE",
    )
    requirement.refresh_from_db()
    assert (requirement.urgency, requirement.max_price) == ("NORMAL", Decimal("63000.00"))
    [updated] = OutboxEvent.objects.filter(type=events.REQUIREMENT_UPDATED)
    assert set(updated.payload["changed"]) == {"max_price", "max_price_per_kg"}


def test_another_partner_cannot_change_publish_or_cancel_it(authenticate, buyer, seller, cotton, financial_year):
    requirement = _create(buyer, cotton)
    client = authenticate(seller.owner)

    answers = [
        client.patch(f"{URL}{requirement.pk}", {"urgency": "URGENT"}, format="json"),
        client.post(f"{URL}{requirement.pk}/publish"),
        client.post(f"{URL}{requirement.pk}/cancel", {}, format="json"),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "requirement_not_found")] * 3
    requirement.refresh_from_db()
    assert (requirement.status, requirement.urgency) == ("DRAFT", "NORMAL")
    assert _requirement_events() == [events.REQUIREMENT_CREATED]


def test_publish_then_cancel_and_the_wrong_state_answers_409_with_the_current_state(
    authenticate, buyer, buyer_trader, cotton, financial_year
):
    requirement = _create(buyer, cotton)
    client = authenticate(buyer_trader)

    published = client.post(f"{URL}{requirement.pk}/publish")
    again = client.post(f"{URL}{requirement.pk}/publish")
    cancelled = client.post(f"{URL}{requirement.pk}/cancel", {"reason": "Covered"}, format="json")
    cancelled_again = client.post(f"{URL}{requirement.pk}/cancel", {}, format="json")

    assert (published.status_code, published.json()["status"], published.json()["number"]) == (
        200,
        "ACTIVE",
        f"RQ/{financial_year.label}/000001",
    )
    assert (again.status_code, again.json()["code"], again.json()["current_state"]) == (
        409,
        "invalid_transition",
        "ACTIVE",
    )
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED")
    assert (cancelled_again.status_code, cancelled_again.json()["current_state"]) == (409, "CANCELLED")
    assert _requirement_events() == [
        events.REQUIREMENT_CREATED,
        events.REQUIREMENT_PUBLISHED,
        events.REQUIREMENT_CANCELLED,
    ]


def test_no_endpoint_records_fulfilment():
    routes = [str(pattern.pattern) for pattern in get_resolver().url_patterns]
    flat: list[str] = []

    def walk(patterns: Any, prefix: str = "") -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                flat.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    requirement_routes = sorted(route for route in flat if "requirements/" in route and "market" not in route)
    assert routes  # the resolver is loaded
    assert requirement_routes == [
        "api/v1/requirements/",
        "api/v1/requirements/<uuid:requirement_id>",
        "api/v1/requirements/<uuid:requirement_id>/cancel",
        "api/v1/requirements/<uuid:requirement_id>/match-report",  # matching's read-only report
        "api/v1/requirements/<uuid:requirement_id>/publish",
    ]


# --- admin ----------------------------------------------------------------------------------------


def _admin(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_admin_lists_the_organizations_requirements_only(desk_manager, buyer, foreign_partner, cotton):
    mine = _create(buyer, cotton)
    foreign = _create(foreign_partner, cotton)
    admin = _admin(desk_manager)

    page = admin.get("/admin/tradedesk/requirement/", {"status__exact": "DRAFT"})
    assert page.status_code == 200
    listed = {str(r.pk) for r in page.context["cl"].result_list}
    assert listed == {str(mine.pk)}
    assert admin.get(f"/admin/tradedesk/requirement/{foreign.pk}/change/").status_code == 302  # not found: back


def test_the_admin_cancels_with_a_reason_and_reports_a_refusal(desk_manager, risk_officer_of_org, buyer, cotton):
    requirement = _create(buyer, cotton)
    url = f"/admin/tradedesk/requirement/{requirement.pk}/actions/cancel/"
    page = _admin(desk_manager).get(f"/admin/tradedesk/requirement/{requirement.pk}/change/")
    assert "actions/cancel/" in page.content.decode()

    refused = _admin(risk_officer_of_org).post(url, {"reason": "x"}, follow=True)
    assert "(permission_denied)" in refused.content.decode()  # the form again, the refusal on it (issue 17)
    requirement.refresh_from_db()
    assert requirement.status == "DRAFT"

    done = _admin(desk_manager).post(url, {"reason": "Duplicate entry"})
    assert done.status_code == 302
    requirement.refresh_from_db()
    assert requirement.status == "CANCELLED"
    cancelled = OutboxEvent.objects.get(type=events.REQUIREMENT_CANCELLED)
    assert (cancelled.actor_id, cancelled.payload["reason"]) == (desk_manager.pk, "Duplicate entry")


@pytest.fixture
def risk_officer_of_org(organization: Any) -> Any:
    """Reads the desk, cannot cancel."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory

    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=Role.RISK_OFFICER))
    return user

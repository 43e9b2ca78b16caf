"""Branches of a partner (SPEC section 6): the API, its permission matrix, the GST rules and the
one default ship-to / ship-from per partner."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Q

from apps.events.models import OutboxEvent
from apps.locations.tests.factories import LocationFactory
from apps.organizations.validators import gstin_check_char
from apps.partners.models import Branch, BranchType, BusinessPartner
from apps.partners.services import branches as services
from apps.partners.tests.factories import GSTIN, PAN

pytestmark = pytest.mark.django_db

BRANCH_EVENTS = Q(type__startswith="partners.branch.")


def gstin(state: str, pan: str = PAN, entity: str = "1") -> str:
    base = f"{state}{pan}{entity}Z"
    return base + gstin_check_char(base)


GUJARAT_GSTIN = gstin("24")


def url(partner: Any, branch: Any = None, action: str = "") -> str:
    base = f"/api/v1/partners/{partner.id}/branches/"
    if branch is None:
        return base
    return f"{base}{branch.id}" + (f"/{action}" if action else "")


def warehouse_data(**overrides: Any) -> dict[str, Any]:
    """A warehouse in the partner's own state (Maharashtra, 27) without a GSTIN of its own."""
    data: dict[str, Any] = {
        "code": "WH-01",
        "name": "Akola warehouse",
        "branch_type": "WAREHOUSE",
        "address_line1": "Gat 12, MIDC",
        "city": "Akola",
        "state_code": "27",
        "pincode": "444104",
        "capacity_kg": "250000.000",
    }
    data.update(overrides)
    return data


def add_branch(partner: Any, actor: Any, **overrides: Any) -> Branch:
    data = warehouse_data(**overrides)
    if "capacity_kg" in data and data["capacity_kg"] is not None:
        data["capacity_kg"] = Decimal(data["capacity_kg"])
    return services.branch_create(actor=actor, partner_id=partner.id, **data)


def head_office(partner: Any) -> Branch:
    return Branch.objects.get(partner=partner, branch_type=BranchType.HEAD_OFFICE)


def snapshot(partner: Any) -> tuple[list[dict[str, Any]], int]:
    """Every branch row of the partner and the number of branch events: what a refusal must not change."""
    rows = list(Branch.objects.filter(partner=partner).order_by("id").values())
    return rows, OutboxEvent.objects.filter(BRANCH_EVENTS).count()


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def field_error(response: Any) -> tuple[int, str, str, str]:
    body = response.json()
    return response.status_code, body["code"], body["errors"][0]["attr"], body["errors"][0]["code"]


def events_of(event_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=event_type).order_by("position"))


@pytest.fixture
def warehouse(partner: Any, owner: Any) -> Branch:
    return add_branch(partner, owner)


# --- create -----------------------------------------------------------------------------------------


def test_owner_adds_a_warehouse_in_the_partners_state(authenticate: Any, partner: Any, owner: Any) -> None:
    response = authenticate(owner).post(url(partner), warehouse_data(code="wh-01"), format="json")

    assert response.status_code == 201
    branch = Branch.objects.get(partner=partner, code="WH-01")
    body = response.json()
    assert body == {
        "id": str(branch.id),
        "partner_id": str(partner.id),
        "code": "WH-01",
        "name": "Akola warehouse",
        "branch_type": "WAREHOUSE",
        "location_id": None,
        "address_line1": "Gat 12, MIDC",
        "city": "Akola",
        "state_code": "27",
        "pincode": "444104",
        "gstin": None,
        "can_receive": True,
        "can_send": True,
        "is_default_ship_to": False,
        "is_default_ship_from": False,
        "capacity_kg": "250000.000",
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert branch.capacity_kg == Decimal("250000.000")
    [event] = events_of("partners.branch.created")
    assert (event.aggregate_type, event.aggregate_id) == ("partners.branch", str(branch.id))
    assert (event.organization_id, event.partner_id, event.actor_id) == (partner.organization_id, partner.id, owner.id)
    assert event.payload == {
        "branch_id": str(branch.id),
        "partner_id": str(partner.id),
        "code": "WH-01",
        "branch_type": "WAREHOUSE",
        "state_code": "27",
        "can_receive": True,
        "can_send": True,
        "is_default_ship_to": False,
        "is_default_ship_from": False,
    }


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_add_branches(
    request: Any, authenticate: Any, partner: Any, staff: str
) -> None:
    actor = request.getfixturevalue(staff)

    response = authenticate(actor).post(url(partner), warehouse_data(), format="json")

    assert response.status_code == 201
    assert Branch.objects.filter(partner=partner, code="WH-01", is_active=True).count() == 1
    assert events_of("partners.branch.created")[0].actor_id == actor.id


def test_creating_is_refused_to_everyone_else_and_changes_nothing(
    request: Any, authenticate: Any, api_client: Any, partner: Any
) -> None:
    before = snapshot(partner)
    assert api_client.post(url(partner), warehouse_data(), format="json").status_code == 401
    cases = {
        "other_org_staff": (404, "partner_not_found"),
        "other_partner": (404, "partner_not_found"),
        "foreign_partner": (404, "partner_not_found"),
        "viewer": (403, "permission_denied"),
        "trader": (403, "permission_denied"),
        "kyc_officer": (403, "permission_denied"),
        "risk_officer": (403, "permission_denied"),
    }
    for name, expected in cases.items():
        user = request.getfixturevalue(name)
        user = getattr(user, "owner", user)  # other partners: their owners

        response = authenticate(user).post(url(partner), warehouse_data(), format="json")

        assert error(response) == expected, name
        assert snapshot(partner) == before, name


def test_a_branch_code_is_unique_per_partner_whatever_its_case(authenticate: Any, partner: Any, owner: Any) -> None:
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner), warehouse_data(code=" ho "), format="json")

    assert error(response) == (409, "branch_code_taken")
    assert snapshot(partner) == before


def test_a_deactivated_branch_keeps_its_code(authenticate: Any, partner: Any, owner: Any, warehouse: Branch) -> None:
    services.branch_deactivate(actor=owner, partner_id=partner.id, branch_id=warehouse.id)
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner), warehouse_data(), format="json")

    assert error(response) == (409, "branch_code_taken")
    assert snapshot(partner) == before


def test_another_partner_may_use_the_same_code(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch, other_partner: Any
) -> None:
    response = authenticate(other_partner.owner).post(
        url(other_partner), warehouse_data(state_code="24"), format="json"
    )

    assert response.status_code == 201
    assert Branch.objects.filter(code="WH-01").count() == 2


def test_a_partner_has_one_head_office(authenticate: Any, partner: Any, owner: Any) -> None:
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner), warehouse_data(branch_type="HEAD_OFFICE"), format="json")

    assert error(response) == (409, "head_office_exists")
    assert snapshot(partner) == before


@pytest.mark.parametrize(
    ("overrides", "attr", "code"),
    [
        ({"state_code": "99"}, "state_code", "unknown_gst_state_code"),
        ({"state_code": "GJ"}, "state_code", "unknown_gst_state_code"),
        ({"pincode": "044410"}, "pincode", "invalid_pincode"),
        ({"pincode": "44410"}, "pincode", "invalid_pincode"),
        ({"code": "WH 01!"}, "code", "invalid_code"),
        ({"capacity_kg": "0"}, "capacity_kg", "not_positive"),
        ({"capacity_kg": "-10.5"}, "capacity_kg", "not_positive"),
        ({"branch_type": "SHOP"}, "branch_type", "invalid_choice"),
        ({"city": ""}, "city", "blank"),
    ],
)
def test_bad_addresses_and_capacities_are_refused_field_by_field(
    authenticate: Any, partner: Any, owner: Any, overrides: dict[str, Any], attr: str, code: str
) -> None:
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner), warehouse_data(**overrides), format="json")

    assert field_error(response) == (400, "validation_failed", attr, code)
    assert snapshot(partner) == before


def test_capacity_may_be_left_out(authenticate: Any, partner: Any, owner: Any) -> None:
    data = warehouse_data()
    del data["capacity_kg"]

    response = authenticate(owner).post(url(partner), data, format="json")

    assert (response.status_code, response.json()["capacity_kg"]) == (201, None)


# --- GST rules ----------------------------------------------------------------------------------


def test_a_branch_in_another_state_is_added_with_its_gstin_of_that_state(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    response = authenticate(owner).post(
        url(partner),
        warehouse_data(state_code="24", city="Rajkot", pincode="360001", gstin=GUJARAT_GSTIN.lower()),
        format="json",
    )

    assert response.status_code == 201
    assert Branch.objects.get(partner=partner, code="WH-01").gstin == GUJARAT_GSTIN


@pytest.mark.parametrize(
    ("branch_gstin", "code"),
    [
        (None, "gstin_required_for_other_state"),
        ("", "gstin_required_for_other_state"),
        (gstin("24", pan="AABCX1234Y"), "gstin_pan_mismatch"),
        (gstin("29"), "gstin_state_mismatch"),
        (GSTIN, "gstin_state_mismatch"),
        (GUJARAT_GSTIN[:-1] + ("A" if GUJARAT_GSTIN[-1] != "A" else "B"), "invalid_gstin_check_digit"),
        ("24AAPFU0939F1Z", "invalid_gstin"),
    ],
)
def test_a_branch_in_another_state_needs_a_gstin_of_that_state_with_the_partners_pan(
    authenticate: Any, partner: Any, owner: Any, branch_gstin: str | None, code: str
) -> None:
    before = snapshot(partner)
    data = warehouse_data(state_code="24", pincode="360001", gstin=branch_gstin)

    response = authenticate(owner).post(url(partner), data, format="json")

    assert field_error(response) == (400, "validation_failed", "gstin", code)
    assert snapshot(partner) == before


def test_a_branch_in_the_partners_state_may_carry_the_partners_gstin(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    response = authenticate(owner).post(url(partner), warehouse_data(gstin=GSTIN), format="json")

    assert (response.status_code, response.json()["gstin"]) == (201, GSTIN)


def test_a_branch_in_the_partners_state_may_not_carry_another_gstin(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    before = snapshot(partner)
    second_registration = gstin("27", entity="2")  # valid, same PAN, same state, but not the partner's

    response = authenticate(owner).post(url(partner), warehouse_data(gstin=second_registration), format="json")

    assert field_error(response) == (400, "validation_failed", "gstin", "gstin_not_the_partners")
    assert snapshot(partner) == before


def test_the_partners_state_comes_from_its_address_before_its_gstin(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(state_code="24")

    response = authenticate(owner).post(url(partner), warehouse_data(state_code="24"), format="json")

    assert response.status_code == 201


def test_moving_a_branch_to_another_state_needs_the_gstin_there(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch
) -> None:
    client = authenticate(owner)
    before = snapshot(partner)

    refused = client.patch(url(partner, warehouse), {"state_code": "24", "pincode": "360001"}, format="json")

    assert field_error(refused) == (400, "validation_failed", "gstin", "gstin_required_for_other_state")
    assert snapshot(partner) == before

    moved = client.patch(
        url(partner, warehouse), {"state_code": "24", "pincode": "360001", "gstin": GUJARAT_GSTIN}, format="json"
    )

    assert moved.status_code == 200
    warehouse.refresh_from_db()
    assert (warehouse.state_code, warehouse.gstin) == ("24", GUJARAT_GSTIN)
    [event] = events_of("partners.branch.updated")
    assert event.payload == {
        "branch_id": str(warehouse.id),
        "partner_id": str(partner.id),
        "code": "WH-01",
        "fields": ["gstin", "pincode", "state_code"],
    }


def test_moving_an_other_state_branch_home_must_drop_its_gstin(authenticate: Any, partner: Any, owner: Any) -> None:
    branch = add_branch(partner, owner, state_code="24", pincode="360001", gstin=GUJARAT_GSTIN)
    client = authenticate(owner)

    refused = client.patch(url(partner, branch), {"state_code": "27"}, format="json")
    moved = client.patch(url(partner, branch), {"state_code": "27", "gstin": None}, format="json")

    assert field_error(refused) == (400, "validation_failed", "gstin", "gstin_not_the_partners")
    assert moved.status_code == 200
    branch.refresh_from_db()
    assert (branch.state_code, branch.gstin) == ("27", None)


# --- locations ------------------------------------------------------------------------------------


def test_a_branch_may_stand_at_a_location_of_its_state(authenticate: Any, partner: Any, owner: Any) -> None:
    rajkot = LocationFactory(state_code="GJ")
    data = warehouse_data(state_code="24", pincode="360001", gstin=GUJARAT_GSTIN, location_id=str(rajkot.id))

    response = authenticate(owner).post(url(partner), data, format="json")

    assert (response.status_code, response.json()["location_id"]) == (201, str(rajkot.id))


def test_a_location_in_another_state_than_the_branch_is_refused(authenticate: Any, partner: Any, owner: Any) -> None:
    rajkot = LocationFactory(state_code="GJ")
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner), warehouse_data(location_id=str(rajkot.id)), format="json")

    assert field_error(response) == (400, "validation_failed", "location_id", "location_state_mismatch")
    assert snapshot(partner) == before


def test_an_inactive_location_is_refused(authenticate: Any, partner: Any, owner: Any) -> None:
    closed = LocationFactory(state_code="MH", pincode="444001", is_active=False)
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner), warehouse_data(location_id=str(closed.id)), format="json")

    assert error(response) == (409, "location_inactive")
    assert snapshot(partner) == before


# --- default ship-to and ship-from ----------------------------------------------------------------


def test_a_new_default_ship_from_takes_the_flag_from_the_head_office(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    office = head_office(partner)
    assert (office.is_default_ship_to, office.is_default_ship_from) == (True, True)

    response = authenticate(owner).post(url(partner), warehouse_data(is_default_ship_from=True), format="json")

    assert response.status_code == 201
    office.refresh_from_db()
    branch = Branch.objects.get(partner=partner, code="WH-01")
    assert (office.is_default_ship_to, office.is_default_ship_from) == (True, False)
    assert (branch.is_default_ship_to, branch.is_default_ship_from) == (False, True)
    [lost] = events_of("partners.branch.updated")
    assert lost.aggregate_id == str(office.id)
    assert lost.payload == {
        "branch_id": str(office.id),
        "partner_id": str(partner.id),
        "code": "HO",
        "fields": ["is_default_ship_from"],
    }
    assert events_of("partners.branch.created")[0].payload["is_default_ship_from"] is True


def test_setting_the_default_ship_to_moves_it_and_both_branches_emit_updates(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch
) -> None:
    office = head_office(partner)

    response = authenticate(owner).patch(url(partner, warehouse), {"is_default_ship_to": True}, format="json")

    assert (response.status_code, response.json()["is_default_ship_to"]) == (200, True)
    office.refresh_from_db()
    assert office.is_default_ship_to is False
    assert Branch.objects.filter(partner=partner, is_default_ship_to=True).get() == warehouse
    assert [(e.aggregate_id, e.payload["fields"]) for e in events_of("partners.branch.updated")] == [
        (str(office.id), ["is_default_ship_to"]),
        (str(warehouse.id), ["is_default_ship_to"]),
    ]


def test_the_default_holder_cannot_simply_drop_its_flag(authenticate: Any, partner: Any, owner: Any) -> None:
    office = head_office(partner)
    client = authenticate(owner)
    before = snapshot(partner)

    to = client.patch(url(partner, office), {"is_default_ship_to": False}, format="json")
    from_ = client.patch(url(partner, office), {"is_default_ship_from": False}, format="json")

    assert error(to) == (409, "default_ship_to_required")
    assert error(from_) == (409, "default_ship_from_required")
    assert snapshot(partner) == before


def test_a_default_ship_from_must_be_able_to_send(authenticate: Any, partner: Any, owner: Any) -> None:
    before = snapshot(partner)

    response = authenticate(owner).post(
        url(partner), warehouse_data(can_send=False, is_default_ship_from=True), format="json"
    )

    assert field_error(response) == (
        400,
        "validation_failed",
        "is_default_ship_from",
        "default_ship_from_needs_can_send",
    )
    assert snapshot(partner) == before


def test_the_default_ship_to_cannot_stop_receiving(authenticate: Any, partner: Any, owner: Any) -> None:
    office = head_office(partner)
    before = snapshot(partner)

    response = authenticate(owner).patch(url(partner, office), {"can_receive": False}, format="json")

    assert field_error(response) == (400, "validation_failed", "can_receive", "default_ship_to_needs_can_receive")
    assert snapshot(partner) == before


def test_a_branch_that_cannot_receive_cannot_become_default_ship_to(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    branch = add_branch(partner, owner, can_receive=False)
    before = snapshot(partner)

    response = authenticate(owner).patch(url(partner, branch), {"is_default_ship_to": True}, format="json")

    assert field_error(response) == (
        400,
        "validation_failed",
        "is_default_ship_to",
        "default_ship_to_needs_can_receive",
    )
    assert snapshot(partner) == before


@pytest.mark.django_db(transaction=True)
def test_two_branches_made_default_ship_from_at_once_leave_exactly_one_default(
    partner: Any, owner: Any, run_concurrently: Any
) -> None:
    first = add_branch(partner, owner, code="WH-01")
    second = add_branch(partner, owner, code="WH-02")
    targets = iter([first, second])
    lock = threading.Lock()

    def make_default() -> str:
        with lock:
            branch = next(targets)
        return services.branch_update(
            actor=owner, partner_id=partner.id, branch_id=branch.id, is_default_ship_from=True
        ).code

    results = run_concurrently(make_default, times=2)

    assert [r.error for r in results] == [None, None]
    defaults = list(Branch.objects.filter(partner=partner, is_default_ship_from=True).values_list("code", flat=True))
    assert len(defaults) == 1
    # The head office lost the flag to the first writer, which lost it to the second.
    winner = defaults[0]
    loser = "WH-02" if winner == "WH-01" else "WH-01"
    moves = [(e.payload["code"], e.payload["fields"]) for e in events_of("partners.branch.updated")]
    assert moves == [
        ("HO", ["is_default_ship_from"]),
        (loser, ["is_default_ship_from"]),
        (loser, ["is_default_ship_from"]),
        (winner, ["is_default_ship_from"]),
    ]


# --- update ---------------------------------------------------------------------------------------


def test_owner_renames_a_branch_and_the_event_lists_the_changed_fields(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch
) -> None:
    response = authenticate(owner).patch(
        url(partner, warehouse),
        {"name": "Akola cold store", "capacity_kg": "300000", "city": "Akola", "can_send": False},
        format="json",
    )

    assert response.status_code == 200
    warehouse.refresh_from_db()
    assert (warehouse.name, warehouse.capacity_kg, warehouse.can_send) == (
        "Akola cold store",
        Decimal("300000.000"),
        False,
    )
    [event] = events_of("partners.branch.updated")
    assert (event.actor_id, event.partner_id) == (owner.id, partner.id)
    assert event.payload == {
        "branch_id": str(warehouse.id),
        "partner_id": str(partner.id),
        "code": "WH-01",
        "fields": ["can_send", "capacity_kg", "name"],
    }


def test_a_patch_that_changes_nothing_emits_nothing(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch
) -> None:
    response = authenticate(owner).patch(url(partner, warehouse), {"name": "Akola warehouse"}, format="json")

    assert response.status_code == 200
    assert events_of("partners.branch.updated") == []


def test_the_code_is_not_changed_by_a_patch(authenticate: Any, partner: Any, owner: Any, warehouse: Branch) -> None:
    response = authenticate(owner).patch(url(partner, warehouse), {"code": "WH-99"}, format="json")

    assert (response.status_code, response.json()["code"]) == (200, "WH-01")
    assert events_of("partners.branch.updated") == []


def test_the_head_office_stays_the_head_office(authenticate: Any, partner: Any, owner: Any, warehouse: Branch) -> None:
    client = authenticate(owner)
    before = snapshot(partner)

    demoted = client.patch(url(partner, head_office(partner)), {"branch_type": "WAREHOUSE"}, format="json")
    promoted = client.patch(url(partner, warehouse), {"branch_type": "HEAD_OFFICE"}, format="json")

    assert field_error(demoted) == (400, "validation_failed", "branch_type", "head_office_type_fixed")
    assert error(promoted) == (409, "head_office_exists")
    assert snapshot(partner) == before


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_update_branches(
    request: Any, authenticate: Any, partner: Any, warehouse: Branch, staff: str
) -> None:
    response = authenticate(request.getfixturevalue(staff)).patch(
        url(partner, warehouse), {"name": "Renamed"}, format="json"
    )

    assert response.status_code == 200
    warehouse.refresh_from_db()
    assert warehouse.name == "Renamed"


def test_updating_is_refused_to_everyone_else_and_changes_nothing(
    request: Any, authenticate: Any, api_client: Any, partner: Any, warehouse: Branch
) -> None:
    before = snapshot(partner)
    assert api_client.patch(url(partner, warehouse), {"name": "X"}, format="json").status_code == 401
    cases = {
        "other_org_staff": (404, "partner_not_found"),
        "other_partner": (404, "partner_not_found"),
        "viewer": (403, "permission_denied"),
        "trader": (403, "permission_denied"),
        "kyc_officer": (403, "permission_denied"),
    }
    for name, expected in cases.items():
        user = request.getfixturevalue(name)
        user = getattr(user, "owner", user)

        response = authenticate(user).patch(url(partner, warehouse), {"name": "X"}, format="json")

        assert error(response) == expected, name
        assert snapshot(partner) == before, name


def test_a_branch_of_another_partner_is_not_found_under_this_partner(
    authenticate: Any, partner: Any, owner: Any, other_partner: Any
) -> None:
    theirs = head_office(other_partner)
    before = snapshot(other_partner)
    client = authenticate(owner)

    assert error(client.get(url(partner, theirs))) == (404, "branch_not_found")
    assert error(client.patch(url(partner, theirs), {"name": "X"}, format="json")) == (404, "branch_not_found")
    assert error(client.post(url(partner, theirs, "deactivate"))) == (404, "branch_not_found")
    assert snapshot(other_partner) == before


# --- deactivation ---------------------------------------------------------------------------------


def test_owner_deactivates_a_branch(authenticate: Any, partner: Any, owner: Any, warehouse: Branch) -> None:
    response = authenticate(owner).post(url(partner, warehouse, "deactivate"))

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    warehouse.refresh_from_db()
    assert warehouse.is_active is False
    [event] = events_of("partners.branch.deactivated")
    assert (event.aggregate_id, event.actor_id, event.organization_id) == (
        str(warehouse.id),
        owner.id,
        partner.organization_id,
    )
    assert event.payload == {"branch_id": str(warehouse.id), "partner_id": str(partner.id), "code": "WH-01"}


def test_a_deactivated_branch_cannot_be_changed_or_deactivated_again(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch
) -> None:
    client = authenticate(owner)
    client.post(url(partner, warehouse, "deactivate"))
    before = snapshot(partner)

    assert error(client.post(url(partner, warehouse, "deactivate"))) == (409, "branch_inactive")
    assert error(client.patch(url(partner, warehouse), {"name": "X"}, format="json")) == (409, "branch_inactive")
    assert snapshot(partner) == before


def test_the_head_office_cannot_be_deactivated(authenticate: Any, partner: Any, owner: Any, warehouse: Branch) -> None:
    office = head_office(partner)
    # Even once it holds no default flag.
    services.branch_update(
        actor=owner,
        partner_id=partner.id,
        branch_id=warehouse.id,
        is_default_ship_to=True,
        is_default_ship_from=True,
    )
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner, office, "deactivate"))

    assert error(response) == (409, "head_office_cannot_be_deactivated")
    assert snapshot(partner) == before


def test_a_default_branch_cannot_be_deactivated(authenticate: Any, partner: Any, owner: Any) -> None:
    branch = add_branch(partner, owner, is_default_ship_to=True)
    before = snapshot(partner)

    response = authenticate(owner).post(url(partner, branch, "deactivate"))

    assert error(response) == (409, "default_branch_cannot_be_deactivated")
    assert "ship-to" in response.json()["detail"]
    assert snapshot(partner) == before


def test_deactivating_is_refused_to_everyone_else_and_changes_nothing(
    request: Any, authenticate: Any, api_client: Any, partner: Any, warehouse: Branch
) -> None:
    before = snapshot(partner)
    assert api_client.post(url(partner, warehouse, "deactivate")).status_code == 401
    cases = {
        "other_org_staff": (404, "partner_not_found"),
        "other_partner": (404, "partner_not_found"),
        "viewer": (403, "permission_denied"),
        "risk_officer": (403, "permission_denied"),
    }
    for name, expected in cases.items():
        user = request.getfixturevalue(name)
        user = getattr(user, "owner", user)

        response = authenticate(user).post(url(partner, warehouse, "deactivate"))

        assert error(response) == expected, name
        assert snapshot(partner) == before, name


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_deactivate_branches(
    request: Any, authenticate: Any, partner: Any, warehouse: Branch, staff: str
) -> None:
    response = authenticate(request.getfixturevalue(staff)).post(url(partner, warehouse, "deactivate"))

    assert response.status_code == 200
    warehouse.refresh_from_db()
    assert warehouse.is_active is False


# --- suspended partners ---------------------------------------------------------------------------


def test_a_suspended_partners_owner_reads_but_cannot_write(
    authenticate: Any, partner: Any, owner: Any, warehouse: Branch
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(status="SUSPENDED")
    client = authenticate(owner)
    before = snapshot(partner)

    assert error(client.post(url(partner), warehouse_data(code="WH-02"), format="json")) == (403, "partner_suspended")
    assert error(client.patch(url(partner, warehouse), {"name": "X"}, format="json")) == (403, "partner_suspended")
    assert error(client.post(url(partner, warehouse, "deactivate"))) == (403, "partner_suspended")
    assert snapshot(partner) == before
    assert client.get(url(partner)).status_code == 200
    assert client.get(url(partner, warehouse)).status_code == 200


def test_staff_still_change_a_suspended_partners_branches(
    authenticate: Any, partner: Any, desk_manager: Any, warehouse: Branch
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(status="SUSPENDED")

    response = authenticate(desk_manager).patch(url(partner, warehouse), {"name": "Renamed"}, format="json")

    assert (response.status_code, response.json()["name"]) == (200, "Renamed")
    warehouse.refresh_from_db()
    assert warehouse.name == "Renamed"
    [event] = events_of("partners.branch.updated")
    assert (event.actor_id, event.payload["fields"]) == (desk_manager.id, ["name"])


# --- reads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["owner", "trader", "viewer", "kyc_officer", "desk_manager", "risk_officer"])
def test_members_and_staff_read_the_branches(
    request: Any, authenticate: Any, partner: Any, warehouse: Branch, reader: str
) -> None:
    client = authenticate(request.getfixturevalue(reader))

    listed = client.get(url(partner))
    one = client.get(url(partner, warehouse))

    assert listed.status_code == 200
    assert [b["code"] for b in listed.json()["results"]] == ["HO", "WH-01"]
    assert (one.status_code, one.json()["id"]) == (200, str(warehouse.id))


def test_reads_are_404_outside_scope(
    request: Any, authenticate: Any, api_client: Any, partner: Any, warehouse: Branch
) -> None:
    assert api_client.get(url(partner)).status_code == 401
    assert api_client.get(url(partner, warehouse)).status_code == 401
    for name in ("other_org_staff", "other_partner", "foreign_partner"):
        user = request.getfixturevalue(name)
        client = authenticate(getattr(user, "owner", user))

        assert error(client.get(url(partner))) == (404, "partner_not_found"), name
        assert error(client.get(url(partner, warehouse))) == (404, "partner_not_found"), name


def test_the_list_filters_on_active(authenticate: Any, partner: Any, owner: Any, warehouse: Branch) -> None:
    add_branch(partner, owner, code="WH-02")
    services.branch_deactivate(actor=owner, partner_id=partner.id, branch_id=warehouse.id)
    client = authenticate(owner)

    active = client.get(url(partner), {"is_active": "true"}).json()["results"]
    inactive = client.get(url(partner), {"is_active": "false"}).json()["results"]
    bad = client.get(url(partner), {"is_active": "perhaps"})

    assert [b["code"] for b in active] == ["HO", "WH-02"]
    assert [b["code"] for b in inactive] == ["WH-01"]
    assert field_error(bad) == (400, "validation_failed", "is_active", "invalid")


def test_the_list_pages_with_a_cursor(authenticate: Any, partner: Any, owner: Any) -> None:
    for n in range(1, 5):
        add_branch(partner, owner, code=f"WH-{n:02d}")
    client = authenticate(owner)

    first = client.get(url(partner), {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    assert [b["code"] for b in first["results"]] == ["HO", "WH-01", "WH-02"]
    assert [b["code"] for b in second["results"]] == ["WH-03", "WH-04"]
    assert second["next"] is None


@pytest.mark.parametrize("reader", ["owner", "desk_manager"])
def test_the_list_costs_the_same_queries_whatever_the_page_size(
    request: Any, authenticate: Any, partner: Any, owner: Any, django_assert_num_queries: Any, reader: str
) -> None:
    for n in range(1, 8):
        add_branch(partner, owner, code=f"WH-{n:02d}")
    client = authenticate(request.getfixturevalue(reader))
    # user, membership, partner, membership check, 2 object-permission reads, the page (staff: user,
    # partner, 2 model-permission reads, the page)
    expected = {"owner": 7, "desk_manager": 5}[reader]

    for page_size in (2, 8):
        with django_assert_num_queries(expected):
            response = client.get(url(partner), {"page_size": page_size})
        assert len(response.json()["results"]) == page_size

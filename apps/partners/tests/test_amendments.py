"""SPEC section 6: amendments after approval (bank change, GST update, address, legal name and
PAN, credit limit increase) are requested by the partner, applied only when a staff member
approves, keep the old and new values, and a bank change freezes payouts until decided."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.locations.tests.factories import LocationFactory
from apps.organizations.validators import gstin_check_char
from apps.partners import events
from apps.partners.models import (
    AmendmentStatus,
    Branch,
    BranchType,
    BusinessPartner,
    PartnerAmendment,
    PartnerStatus,
)
from apps.partners.services.amendments import (
    amendment_approve,
    amendment_cancel,
    amendment_reject,
    amendment_request,
)
from apps.partners.tests.factories import GSTIN, PAN, member

pytestmark = pytest.mark.django_db

# What the fixture partner has on record before any amendment.
ON_RECORD = {
    "bank_account_holder": "Shree Ginning Private Limited",
    "bank_account_number": "123456789012",
    "bank_ifsc": "SBIN0001234",
    "address_line1": "Plot 4, Market Yard",
    "city": "Akola",
    "state_code": "27",
    "pincode": "444001",
}
NEW_BANK = {
    "bank_account_holder": "Shree Ginning Pvt Ltd",
    "bank_account_number": "987654321098",
    "bank_ifsc": "HDFC0000123",
}
NEW_GSTIN = "27" + PAN + "2Z" + gstin_check_char("27" + PAN + "2Z")
NEW_PAN = "AAPFV1234K"
NEW_PAN_GSTIN = "27" + NEW_PAN + "1Z" + gstin_check_char("27" + NEW_PAN + "1Z")
AMENDMENT_EVENTS = (
    events.AMENDMENT_REQUESTED,
    events.AMENDMENT_APPROVED,
    events.AMENDMENT_REJECTED,
    events.AMENDMENT_CANCELLED,
    events.PARTNER_UPDATED,
    events.BRANCH_UPDATED,
)


@pytest.fixture(autouse=True)
def _on_record(request: Any) -> None:
    if "partner" in request.fixturenames:
        partner = request.getfixturevalue("partner")
        BusinessPartner.objects.filter(pk=partner.pk).update(**ON_RECORD)
        partner.refresh_from_db()


def _url(partner: Any, amendment: Any = None, action: str = "") -> str:
    base = f"/api/v1/partners/{partner.pk}/amendments/"
    if amendment is None:
        return base
    return f"{base}{amendment.pk}" + (f"/{action}" if action else "")


def _snapshot(partner: Any) -> dict[str, Any]:
    return BusinessPartner.objects.filter(pk=partner.pk).values().get()


def _amendments() -> list[tuple[str, str]]:
    return list(PartnerAmendment.objects.order_by("created_at").values_list("kind", "status"))


def _events(*types: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type__in=types or AMENDMENT_EVENTS).order_by("position"))


def _event(event_type: str) -> OutboxEvent:
    [event] = _events(event_type)
    return event


def _request(actor: Any, partner: Any, kind: str, values: dict[str, Any], reason: str = "") -> PartnerAmendment:
    return amendment_request(actor=actor, partner_id=partner.pk, kind=kind, new_values=values, reason=reason)


def _assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    body = response.json()
    assert (response.status_code, body["code"]) == (status, code), body
    return body


def _refused(fn: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(**kwargs)
    return caught.value


# --- the flow per kind ----------------------------------------------------------------------------


def test_the_owner_asks_for_a_bank_change_which_freezes_payouts_until_a_desk_manager_approves_it(
    authenticate: Any, partner: Any, owner: Any, desk_manager: Any
) -> None:
    response = authenticate(owner).post(
        _url(partner), {"kind": "BANK", "new_values": NEW_BANK, "reason": "Moved to HDFC"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["status"], body["reason"]) == ("BANK", "PENDING", "Moved to HDFC")
    assert body["old_values"] == {
        "bank_account_holder": "Shree Ginning Private Limited",
        "bank_account_number": "***9012",
        "bank_ifsc": "SBIN0001234",
    }
    assert body["new_values"] == {**NEW_BANK, "bank_account_number": "***1098"}
    assert body["changed_fields"] == ["bank_account_holder", "bank_account_number", "bank_ifsc"]
    assert body["requested_by"] == {"id": str(owner.pk), "full_name": owner.full_name}
    assert body["decided_by"] is None
    amendment = PartnerAmendment.objects.get()
    assert amendment.old_values == {
        "bank_account_holder": "Shree Ginning Private Limited",
        "bank_account_number": "123456789012",
        "bank_ifsc": "SBIN0001234",
    }
    assert amendment.new_values == NEW_BANK
    partner.refresh_from_db()
    assert partner.payouts_frozen is True
    assert partner.bank_account_number == "123456789012"  # nothing applied yet
    requested = _event(events.AMENDMENT_REQUESTED)
    assert requested.payload == {
        "amendment_id": str(amendment.pk),
        "partner_id": str(partner.pk),
        "kind": "BANK",
        "fields": ["bank_account_holder", "bank_account_number", "bank_ifsc"],
        "payouts_frozen": True,
    }
    assert (requested.aggregate_type, requested.organization_id, requested.partner_id, requested.actor_id) == (
        "partners.partneramendment",
        partner.organization_id,
        partner.pk,
        owner.pk,
    )
    assert _event(events.PARTNER_UPDATED).payload["fields"] == ["payouts_frozen"]

    approved = amendment_approve(actor=desk_manager, amendment_id=amendment.pk, note="Cheque seen")

    partner.refresh_from_db()
    assert (partner.bank_account_holder, partner.bank_account_number, partner.bank_ifsc) == (
        "Shree Ginning Pvt Ltd",
        "987654321098",
        "HDFC0000123",
    )
    assert partner.payouts_frozen is False
    approved.refresh_from_db()
    assert (approved.status, approved.decided_by, approved.decision_note) == ("APPROVED", desk_manager, "Cheque seen")
    assert approved.decided_at is not None
    assert _event(events.AMENDMENT_APPROVED).payload == {
        "amendment_id": str(amendment.pk),
        "partner_id": str(partner.pk),
        "kind": "BANK",
        "fields": ["bank_account_holder", "bank_account_number", "bank_ifsc"],
    }
    updated = _events(events.PARTNER_UPDATED)[-1]
    assert updated.payload == {
        "partner_id": str(partner.pk),
        "fields": ["bank_account_holder", "bank_account_number", "bank_ifsc", "payouts_frozen"],
        "amendment_id": str(amendment.pk),
    }
    assert updated.actor_id == desk_manager.pk


def test_the_approval_is_in_the_audit_history(partner: Any, owner: Any, desk_manager: Any) -> None:
    amendment = _request(owner, partner, "CREDIT_LIMIT", {"credit_limit": "7500000"})

    amendment_approve(actor=desk_manager, amendment_id=amendment.pk)

    history = apps.get_model("partners", "PartnerAmendmentEvent").objects.filter(pgh_obj_id=amendment.pk)
    assert list(history.order_by("pgh_id").values_list("pgh_label", "status")) == [
        ("insert", "PENDING"),
        ("update", "APPROVED"),
    ]
    assert history.filter(status="APPROVED", decided_by=desk_manager).count() == 1
    partner_history = BusinessPartner.pgh_event_model.objects.filter(pgh_obj_id=partner.pk)  # type: ignore[attr-defined]
    assert partner_history.order_by("-pgh_id").values_list("credit_limit", flat=True)[0] == Decimal("7500000.00")


def test_a_gst_update_changes_the_partner_and_its_head_office(partner: Any, owner: Any, director: Any) -> None:
    amendment = _request(owner, partner, "GST", {"gstin": f" {NEW_GSTIN.lower()} "})
    assert (amendment.old_values, amendment.new_values) == ({"gstin": GSTIN}, {"gstin": NEW_GSTIN})

    amendment_approve(actor=director, amendment_id=amendment.pk)

    partner.refresh_from_db()
    assert partner.gstin == NEW_GSTIN
    head_office = Branch.objects.get(partner=partner, branch_type=BranchType.HEAD_OFFICE)
    assert head_office.gstin == NEW_GSTIN
    assert _event(events.BRANCH_UPDATED).payload == {
        "branch_id": str(head_office.pk),
        "partner_id": str(partner.pk),
        "code": "HO",
        "fields": ["gstin"],
    }
    assert _events(events.PARTNER_UPDATED)[-1].payload["fields"] == ["gstin"]


def test_an_address_change_with_a_location(partner: Any, owner: Any, desk_manager: Any) -> None:
    rajkot = LocationFactory(name="Rajkot", state_code="GJ")
    values = {
        "address_line1": "Survey 12,  GIDC Phase 2",
        "city": "Rajkot",
        "state_code": "24",
        "pincode": "360003",
        "location": str(rajkot.pk),
    }

    amendment = _request(owner, partner, "ADDRESS", values)
    amendment_approve(actor=desk_manager, amendment_id=amendment.pk)

    partner.refresh_from_db()
    assert (partner.address_line1, partner.city, partner.state_code, partner.pincode, partner.location_id) == (
        "Survey 12, GIDC Phase 2",
        "Rajkot",
        "24",
        "360003",
        rajkot.pk,
    )
    assert amendment.old_values == {
        "address_line1": "Plot 4, Market Yard",
        "city": "Akola",
        "state_code": "27",
        "pincode": "444001",
        "location": None,
    }
    assert _events(events.PARTNER_UPDATED)[-1].payload["fields"] == [
        "address_line1",
        "city",
        "location",
        "pincode",
        "state_code",
    ]


def test_an_address_in_another_state_than_its_location_is_refused(partner: Any, owner: Any) -> None:
    rajkot = LocationFactory(name="Rajkot", state_code="GJ")
    values = {"address_line1": "Main Road", "city": "Akola", "state_code": "27", "pincode": "444001"}

    error = _refused(
        _request, actor=owner, partner=partner, kind="ADDRESS", values={**values, "location": str(rajkot.pk)}
    )

    assert (error.code, error.errors[0]["attr"], error.errors[0]["code"]) == (
        "validation_failed",
        "new_values.location",
        "location_state_mismatch",
    )
    assert PartnerAmendment.objects.count() == 0


def test_a_legal_change_of_pan_carries_the_new_gstin_to_the_partner_and_head_office(
    partner: Any, owner: Any, desk_manager: Any
) -> None:
    values = {"legal_name": "Shree Ginning LLP", "pan": NEW_PAN.lower(), "gstin": NEW_PAN_GSTIN}

    amendment = _request(owner, partner, "LEGAL", values)
    amendment_approve(actor=desk_manager, amendment_id=amendment.pk)

    partner.refresh_from_db()
    assert (partner.legal_name, partner.pan, partner.gstin) == ("Shree Ginning LLP", NEW_PAN, NEW_PAN_GSTIN)
    assert Branch.objects.get(partner=partner, code="HO").gstin == NEW_PAN_GSTIN
    assert amendment.old_values == {"legal_name": "Shree Ginning Private Limited", "pan": PAN, "gstin": GSTIN}


def test_a_legal_name_change_alone_keeps_pan_and_gstin(partner: Any, owner: Any, desk_manager: Any) -> None:
    amendment = _request(owner, partner, "LEGAL", {"legal_name": "Shree Cotton Private Limited", "pan": PAN})
    amendment_approve(actor=desk_manager, amendment_id=amendment.pk)

    partner.refresh_from_db()
    assert (partner.legal_name, partner.pan, partner.gstin) == ("Shree Cotton Private Limited", PAN, GSTIN)
    assert amendment.new_values == {"legal_name": "Shree Cotton Private Limited", "pan": PAN}


@pytest.mark.parametrize(
    ("values", "attr", "code"),
    [
        ({"legal_name": "Shree Ginning LLP", "pan": NEW_PAN}, "new_values.gstin", "required_with_pan_change"),
        (
            {"legal_name": "Shree Ginning LLP", "pan": PAN, "gstin": NEW_GSTIN},
            "new_values.gstin",
            "gstin_needs_gst_amendment",
        ),
        (
            {"legal_name": "Shree Ginning LLP", "pan": NEW_PAN, "gstin": NEW_GSTIN},
            "new_values.gstin",
            "gstin_pan_mismatch",
        ),
        ({"legal_name": "Shree Ginning LLP", "pan": "ABC"}, "new_values.pan", "invalid_pan"),
    ],
)
def test_a_pan_change_needs_a_gstin_of_the_new_pan(
    partner: Any, owner: Any, values: dict[str, Any], attr: str, code: str
) -> None:
    before = _snapshot(partner)

    error = _refused(_request, actor=owner, partner=partner, kind="LEGAL", values=values)

    assert (error.status, error.code, error.errors[0]["attr"], error.errors[0]["code"]) == (
        400,
        "validation_failed",
        attr,
        code,
    )
    assert (_snapshot(partner), _amendments(), _events()) == (before, [], [])


def test_a_pan_change_is_refused_while_other_state_branches_hold_gstins_of_the_old_pan(
    partner: Any, owner: Any
) -> None:
    gujarat = "24" + PAN + "1Z"
    Branch.objects.create(
        partner=partner, code="WH-GJ", name="Kadi warehouse", branch_type=BranchType.WAREHOUSE, state_code="24",
        gstin=gujarat + gstin_check_char(gujarat),
    )  # fmt: skip

    error = _refused(
        _request, actor=owner, partner=partner, kind="LEGAL",
        values={"legal_name": "Shree Ginning LLP", "pan": NEW_PAN, "gstin": NEW_PAN_GSTIN},
    )  # fmt: skip

    assert (error.status, error.code) == (409, "branch_gstins_on_old_pan")
    assert "WH-GJ" in error.detail
    assert PartnerAmendment.objects.count() == 0


def test_a_credit_limit_increase(authenticate: Any, partner: Any, owner: Any, desk_manager: Any) -> None:
    response = authenticate(owner).post(
        _url(partner), {"kind": "CREDIT_LIMIT", "new_values": {"credit_limit": 7500000.5}}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["old_values"] == {"credit_limit": "5000000.00"}
    assert response.json()["new_values"] == {"credit_limit": "7500000.50"}

    amendment_approve(actor=desk_manager, amendment_id=response.json()["id"])

    partner.refresh_from_db()
    assert partner.credit_limit == Decimal("7500000.50")
    assert _events(events.PARTNER_UPDATED)[-1].payload["fields"] == ["credit_limit"]


@pytest.mark.parametrize(
    ("value", "code"),
    [("4999999.99", "not_an_increase"), ("100", "not_an_increase"), ("7500000.001", "max_decimal_places"),
     ("-1", "out_of_range"), ("lots", "invalid"), (True, "invalid")],
)  # fmt: skip
def test_a_credit_limit_amendment_must_increase_the_limit(partner: Any, owner: Any, value: Any, code: str) -> None:
    error = _refused(_request, actor=owner, partner=partner, kind="CREDIT_LIMIT", values={"credit_limit": value})

    assert (error.status, error.errors[0]["attr"], error.errors[0]["code"]) == (400, "new_values.credit_limit", code)
    assert (PartnerAmendment.objects.count(), _events()) == (0, [])


# --- input --------------------------------------------------------------------------------------


def test_unknown_and_missing_fields_of_the_kind_are_listed(authenticate: Any, partner: Any, owner: Any) -> None:
    before = _snapshot(partner)

    response = authenticate(owner).post(
        _url(partner),
        {"kind": "BANK", "new_values": {"bank_account_number": "987654321098", "gstin": NEW_GSTIN}},
        format="json",
    )

    body = _assert_refused(response, 400, "validation_failed")
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        ("new_values.gstin", "unknown_field"),
        ("new_values.bank_account_holder", "required"),
        ("new_values.bank_ifsc", "required"),
    ]
    assert (_snapshot(partner), _amendments(), _events()) == (before, [], [])


def test_invalid_bank_values_are_all_listed_without_the_number(partner: Any, owner: Any) -> None:
    error = _refused(
        _request,
        actor=owner,
        partner=partner,
        kind="BANK",
        values={"bank_account_holder": "  ", "bank_account_number": "12345", "bank_ifsc": "SBIN1234567"},
    )

    assert [(e["attr"], e["code"]) for e in error.errors] == [
        ("new_values.bank_account_holder", "blank"),
        ("new_values.bank_account_number", "invalid_account_number"),
        ("new_values.bank_ifsc", "invalid_ifsc"),
    ]
    assert "12345" not in json.dumps(error.errors)
    partner.refresh_from_db()
    assert partner.payouts_frozen is False


def test_new_values_equal_to_the_current_ones_are_refused(partner: Any, owner: Any) -> None:
    error = _refused(_request, actor=owner, partner=partner, kind="GST", values={"gstin": GSTIN})

    assert (error.status, error.code) == (400, "amendment_without_change")
    assert PartnerAmendment.objects.count() == 0


def test_a_gstin_of_another_active_partner_is_refused(partner: Any, owner: Any, other_partner: Any) -> None:
    BusinessPartner.objects.filter(pk=other_partner.pk).update(gstin=NEW_GSTIN)

    error = _refused(_request, actor=owner, partner=partner, kind="GST", values={"gstin": NEW_GSTIN})

    assert (error.status, error.code) == (409, "duplicate_active_gstin")
    assert PartnerAmendment.objects.count() == 0


def test_a_second_pending_amendment_of_a_kind_is_refused_but_another_kind_is_not(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    _request(owner, partner, "BANK", NEW_BANK)

    response = authenticate(owner).post(
        _url(partner), {"kind": "BANK", "new_values": {**NEW_BANK, "bank_ifsc": "ICIC0000001"}}, format="json"
    )

    _assert_refused(response, 409, "amendment_already_pending")
    assert _amendments() == [("BANK", "PENDING")]
    assert len(_events(events.AMENDMENT_REQUESTED)) == 1
    _request(owner, partner, "GST", {"gstin": NEW_GSTIN})
    assert _amendments() == [("BANK", "PENDING"), ("GST", "PENDING")]


@pytest.mark.django_db(transaction=True)
def test_two_racing_requests_of_one_kind_leave_one_pending_amendment(
    partner: Any, owner: Any, director: Any, run_concurrently: Any
) -> None:
    results = run_concurrently(lambda: _request(owner, partner, "CREDIT_LIMIT", {"credit_limit": "9000000"}), times=2)

    outcomes = sorted("ok" if r.error is None else getattr(r.error, "code", repr(r.error)) for r in results)
    assert outcomes == ["amendment_already_pending", "ok"]
    assert _amendments() == [("CREDIT_LIMIT", "PENDING")]
    assert len(_events(events.AMENDMENT_REQUESTED)) == 1


@pytest.mark.django_db(transaction=True)
def test_an_approval_racing_a_cancellation_lets_exactly_one_win(
    partner: Any, owner: Any, desk_manager: Any, run_concurrently: Any
) -> None:
    amendment = _request(owner, partner, "BANK", NEW_BANK)
    calls = iter(
        [
            lambda: amendment_approve(actor=desk_manager, amendment_id=amendment.pk),
            lambda: amendment_cancel(actor=owner, amendment_id=amendment.pk),
        ]
    )
    lock = threading.Lock()

    def one_of_them() -> Any:
        with lock:
            fn = next(calls)
        return fn()

    results = run_concurrently(one_of_them, times=2)

    errors = [r.error for r in results if r.error is not None]
    assert [getattr(e, "code", repr(e)) for e in errors] == ["amendment_not_pending"]
    amendment.refresh_from_db()
    partner.refresh_from_db()
    assert amendment.status in (AmendmentStatus.APPROVED, AmendmentStatus.CANCELLED)
    assert partner.payouts_frozen is False
    assert partner.bank_account_number == ("987654321098" if amendment.status == "APPROVED" else "123456789012")


# --- reject, cancel, stale, maker-checker ---------------------------------------------------------


def test_a_rejected_bank_change_leaves_the_partner_and_unfreezes_payouts(
    partner: Any, owner: Any, desk_manager: Any
) -> None:
    amendment = _request(owner, partner, "BANK", NEW_BANK)

    amendment_reject(actor=desk_manager, amendment_id=amendment.pk, reason="Cheque does not match the holder")

    partner.refresh_from_db()
    assert (partner.bank_account_number, partner.payouts_frozen) == ("123456789012", False)
    amendment.refresh_from_db()
    assert (amendment.status, amendment.decided_by, amendment.decision_note) == (
        "REJECTED",
        desk_manager,
        "Cheque does not match the holder",
    )
    assert _event(events.AMENDMENT_REJECTED).payload == {
        "amendment_id": str(amendment.pk),
        "partner_id": str(partner.pk),
        "kind": "BANK",
        "fields": ["bank_account_holder", "bank_account_number", "bank_ifsc"],
        "reason": "Cheque does not match the holder",
        "payouts_frozen": False,
    }
    assert [e.payload["fields"] for e in _events(events.PARTNER_UPDATED)] == [["payouts_frozen"], ["payouts_frozen"]]


def test_a_rejection_needs_a_reason(partner: Any, owner: Any, desk_manager: Any) -> None:
    amendment = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})

    error = _refused(amendment_reject, actor=desk_manager, amendment_id=amendment.pk, reason="  ")

    assert (error.status, error.errors[0]["attr"]) == (400, "reason")
    amendment.refresh_from_db()
    assert amendment.status == "PENDING"


def test_the_owner_cancels_a_pending_bank_change(authenticate: Any, partner: Any, owner: Any) -> None:
    amendment = _request(owner, partner, "BANK", NEW_BANK)

    response = authenticate(owner).post(_url(partner, amendment, "cancel"))

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["decided_by"]["id"]) == ("CANCELLED", str(owner.pk))
    partner.refresh_from_db()
    assert (partner.bank_account_number, partner.payouts_frozen) == ("123456789012", False)
    assert _event(events.AMENDMENT_CANCELLED).payload == {
        "amendment_id": str(amendment.pk),
        "partner_id": str(partner.pk),
        "kind": "BANK",
        "fields": ["bank_account_holder", "bank_account_number", "bank_ifsc"],
        "payouts_frozen": False,
    }
    _assert_refused(authenticate(owner).post(_url(partner, amendment, "cancel")), 409, "amendment_not_pending")


def test_only_the_requesting_side_cancels(authenticate: Any, partner: Any, owner: Any, desk_manager: Any) -> None:
    by_partner = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})
    by_staff = _request(desk_manager, partner, "CREDIT_LIMIT", {"credit_limit": "6000000"})
    before = _events()

    _assert_refused(authenticate(desk_manager).post(_url(partner, by_partner, "cancel")), 403, "permission_denied")
    _assert_refused(authenticate(owner).post(_url(partner, by_staff, "cancel")), 403, "permission_denied")

    assert _amendments() == [("GST", "PENDING"), ("CREDIT_LIMIT", "PENDING")]
    assert _events() == before
    response = authenticate(desk_manager).post(_url(partner, by_staff, "cancel"))
    assert response.json()["status"] == "CANCELLED"


def test_an_amendment_whose_old_values_moved_is_stale_and_changes_nothing(
    partner: Any, owner: Any, desk_manager: Any
) -> None:
    gst = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})
    legal = _request(
        owner, partner, "LEGAL", {"legal_name": "Shree Ginning LLP", "pan": NEW_PAN, "gstin": NEW_PAN_GSTIN}
    )
    amendment_approve(actor=desk_manager, amendment_id=legal.pk)
    before, events_before = _snapshot(partner), _events()

    error = _refused(amendment_approve, actor=desk_manager, amendment_id=gst.pk)

    assert (error.status, error.code) == (409, "amendment_stale")
    assert "gstin" in error.detail
    gst.refresh_from_db()
    assert gst.status == "PENDING"
    assert (_snapshot(partner), _events()) == (before, events_before)
    assert Branch.objects.get(partner=partner, code="HO").gstin == NEW_PAN_GSTIN


def test_a_gstin_taken_by_another_partner_since_the_request_is_refused_at_approval(
    partner: Any, owner: Any, other_partner: Any, desk_manager: Any
) -> None:
    amendment = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})
    BusinessPartner.objects.filter(pk=other_partner.pk).update(gstin=NEW_GSTIN)
    before, events_before = _snapshot(partner), _events()

    error = _refused(amendment_approve, actor=desk_manager, amendment_id=amendment.pk)

    assert (error.status, error.code) == (409, "duplicate_active_gstin")
    amendment.refresh_from_db()
    assert amendment.status == "PENDING"
    assert (_snapshot(partner), _events()) == (before, events_before)


def test_the_staff_member_who_keyed_an_amendment_cannot_decide_it(
    authenticate: Any, partner: Any, desk_manager: Any, director: Any
) -> None:
    response = authenticate(desk_manager).post(
        _url(partner), {"kind": "CREDIT_LIMIT", "new_values": {"credit_limit": "6000000"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    amendment = PartnerAmendment.objects.get()
    assert amendment.requested_by == desk_manager
    before, events_before = _snapshot(partner), _events()

    _assert_refused(
        authenticate(desk_manager).post(_url(partner, amendment, "approve")), 409, "maker_checker_violation"
    )
    error = _refused(amendment_reject, actor=desk_manager, amendment_id=amendment.pk, reason="No")

    assert error.code == "maker_checker_violation"
    amendment.refresh_from_db()
    assert amendment.status == "PENDING"
    assert (_snapshot(partner), _events()) == (before, events_before)
    response = authenticate(director).post(_url(partner, amendment, "approve"), {"note": "Agreed"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["decision_note"]) == (
        200,
        "APPROVED",
        "Agreed",
    )
    partner.refresh_from_db()
    assert partner.credit_limit == Decimal("6000000.00")


# --- who may do what ------------------------------------------------------------------------------


def test_anonymous_callers_are_refused(api_client: APIClient, partner: Any, owner: Any) -> None:
    amendment = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})

    assert api_client.get(_url(partner)).status_code == 401
    assert api_client.get(_url(partner, amendment)).status_code == 401
    assert (
        api_client.post(_url(partner), {"kind": "GST", "new_values": {"gstin": GSTIN}}, format="json").status_code
        == 401
    )
    assert api_client.post(_url(partner, amendment, "cancel")).status_code == 401
    assert api_client.post(_url(partner, amendment, "approve")).status_code == 401
    assert _amendments() == [("GST", "PENDING")]


@pytest.mark.parametrize(
    ("actor_name", "get_status", "post_status", "post_code"),
    [
        ("other_org_staff", 404, 404, "partner_not_found"),
        ("other_partner_owner", 404, 404, "partner_not_found"),
        ("foreign_partner_owner", 404, 404, "partner_not_found"),
        ("viewer", 200, 403, "permission_denied"),
        ("trader", 200, 403, "permission_denied"),
        ("kyc_officer", 200, 403, "permission_denied"),
        ("risk_officer", 200, 403, "permission_denied"),
    ],
)
def test_who_may_read_and_request(
    request: Any,
    authenticate: Any,
    partner: Any,
    owner: Any,
    actor_name: str,
    get_status: int,
    post_status: int,
    post_code: str,
) -> None:
    if actor_name.endswith("_partner_owner"):
        actor = request.getfixturevalue(actor_name.removesuffix("_owner")).owner
    else:
        actor = request.getfixturevalue(actor_name)
    existing = _request(owner, partner, "CREDIT_LIMIT", {"credit_limit": "6000000"})
    before, events_before = _snapshot(partner), _events()
    client = authenticate(actor)

    assert client.get(_url(partner)).status_code == get_status
    assert client.get(_url(partner, existing)).status_code == get_status
    response = client.post(_url(partner), {"kind": "BANK", "new_values": NEW_BANK}, format="json")

    _assert_refused(response, post_status, post_code)
    assert _amendments() == [("CREDIT_LIMIT", "PENDING")]
    assert (_snapshot(partner), _events()) == (before, events_before)
    assert _snapshot(partner)["payouts_frozen"] is False


def test_members_and_staff_list_the_amendments_with_filters(
    authenticate: Any, partner: Any, owner: Any, viewer: Any, kyc_officer: Any, desk_manager: Any
) -> None:
    bank = _request(owner, partner, "BANK", NEW_BANK)
    gst = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})
    amendment_reject(actor=desk_manager, amendment_id=gst.pk, reason="Certificate missing")

    for reader in (viewer, kyc_officer):
        body = authenticate(reader).get(_url(partner)).json()
        assert [(row["id"], row["kind"], row["status"]) for row in body["results"]] == [
            (str(gst.pk), "GST", "REJECTED"),
            (str(bank.pk), "BANK", "PENDING"),
        ]
    body = authenticate(viewer).get(_url(partner), {"status": "PENDING", "kind": "BANK"}).json()
    assert [row["id"] for row in body["results"]] == [str(bank.pk)]
    assert body["results"][0]["new_values"]["bank_account_number"] == "***1098"
    rejected = authenticate(viewer).get(_url(partner, gst)).json()
    assert (rejected["decision_note"], rejected["decided_by"]["id"]) == ("Certificate missing", str(desk_manager.pk))
    _assert_refused(authenticate(viewer).get(_url(partner), {"status": "DONE"}), 400, "validation_failed")


def test_the_list_costs_the_same_queries_whatever_its_length(
    authenticate: Any, partner: Any, owner: Any, desk_manager: Any
) -> None:
    client = authenticate(owner)
    _request(owner, partner, "BANK", NEW_BANK)
    one_row = _count_queries(client, partner)
    for kind, values in (
        ("GST", {"gstin": NEW_GSTIN}),
        ("CREDIT_LIMIT", {"credit_limit": "6000000"}),
        ("LEGAL", {"legal_name": "Shree Cotton Private Limited", "pan": PAN}),
    ):
        amendment = _request(owner, partner, kind, values)
        amendment_reject(actor=desk_manager, amendment_id=amendment.pk, reason="No")
    assert len(client.get(_url(partner)).json()["results"]) == 4
    assert _count_queries(client, partner) == one_row


def _count_queries(client: APIClient, partner: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url(partner)).status_code == 200
    return len(queries)


def test_an_amendment_of_another_partner_is_not_found_under_this_partner(
    authenticate: Any, partner: Any, owner: Any, other_partner: Any, desk_manager: Any
) -> None:
    theirs = _request(other_partner.owner, other_partner, "CREDIT_LIMIT", {"credit_limit": "2000000"})

    _assert_refused(authenticate(owner).get(_url(partner, theirs)), 404, "amendment_not_found")
    _assert_refused(authenticate(owner).post(_url(partner, theirs, "cancel")), 404, "amendment_not_found")
    _assert_refused(authenticate(desk_manager).post(_url(partner, theirs, "approve")), 404, "amendment_not_found")
    theirs.refresh_from_db()
    assert theirs.status == "PENDING"


def test_the_owner_of_a_suspended_partner_reads_but_may_not_request(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    amendment = _request(owner, partner, "BANK", NEW_BANK)
    BusinessPartner.objects.filter(pk=partner.pk).update(status=PartnerStatus.SUSPENDED)
    events_before = _events()
    client = authenticate(owner)

    assert client.get(_url(partner)).status_code == 200
    _assert_refused(
        client.post(_url(partner), {"kind": "GST", "new_values": {"gstin": NEW_GSTIN}}, format="json"),
        403,
        "partner_suspended",
    )
    _assert_refused(client.post(_url(partner, amendment, "cancel")), 403, "partner_suspended")

    assert _amendments() == [("BANK", "PENDING")]
    assert _snapshot(partner)["payouts_frozen"] is True
    assert _events() == events_before


@pytest.mark.parametrize("decider_name", ["kyc_officer", "risk_officer", "owner", "other_org_staff"])
def test_only_staff_with_the_decide_capability_approve_or_reject(
    request: Any, authenticate: Any, partner: Any, owner: Any, decider_name: str
) -> None:
    decider = request.getfixturevalue(decider_name)
    amendment = _request(owner, partner, "BANK", NEW_BANK)
    before, events_before = _snapshot(partner), _events()
    expected = (404, "partner_not_found") if decider_name == "other_org_staff" else (403, "permission_denied")
    client = authenticate(decider)

    _assert_refused(client.post(_url(partner, amendment, "approve")), *expected)
    _assert_refused(client.post(_url(partner, amendment, "reject"), {"reason": "No"}, format="json"), *expected)
    error = _refused(amendment_approve, actor=decider, amendment_id=amendment.pk)

    assert error.status == expected[0]
    amendment.refresh_from_db()
    assert amendment.status == "PENDING"
    assert (_snapshot(partner), _events()) == (before, events_before)
    assert _snapshot(partner)["payouts_frozen"] is True


def test_staff_key_an_amendment_for_the_partner(authenticate: Any, partner: Any, desk_manager: Any) -> None:
    response = authenticate(desk_manager).post(
        _url(partner), {"kind": "BANK", "new_values": NEW_BANK, "reason": "Partner phoned"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["requested_by"]["id"] == str(desk_manager.pk)
    assert _snapshot(partner)["payouts_frozen"] is True


def test_no_event_or_answer_carries_a_bank_account_number(
    authenticate: Any, partner: Any, owner: Any, desk_manager: Any
) -> None:
    response = authenticate(owner).post(_url(partner), {"kind": "BANK", "new_values": NEW_BANK}, format="json")
    amendment_approve(actor=desk_manager, amendment_id=response.json()["id"])
    listing = authenticate(owner).get(_url(partner))

    texts = [response.content.decode(), listing.content.decode()]
    texts += [json.dumps(event.payload) for event in OutboxEvent.objects.all()]
    for text in texts:
        assert "987654321098" not in text
        assert "123456789012" not in text


def test_a_member_added_after_the_request_sees_it(authenticate: Any, partner: Any, owner: Any) -> None:
    amendment = _request(owner, partner, "GST", {"gstin": NEW_GSTIN})
    newcomer = member(partner, "VIEWER")

    response = authenticate(newcomer).get(_url(partner, amendment))

    assert (response.status_code, response.json()["new_values"]) == (200, {"gstin": NEW_GSTIN})

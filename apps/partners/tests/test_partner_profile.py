"""SPEC section 6: the partner's owner keeps its contact details and commodities of interest up to
date (`PATCH /api/v1/partners/{id}`); legal, tax, bank, address, credit and status data change only
through an approved amendment."""

from __future__ import annotations

from typing import Any

import pytest

from apps.commodities.tests.factories import CommodityFactory
from apps.events.models import OutboxEvent
from apps.partners import events
from apps.partners.models import BusinessPartner, PartnerStatus
from apps.partners.services.status import partner_change_status

pytestmark = pytest.mark.django_db


def _url(partner: Any) -> str:
    return f"/api/v1/partners/{partner.pk}"


def _snapshot(partner: Any) -> dict[str, Any]:
    row = BusinessPartner.objects.filter(pk=partner.pk).values().get()
    row["commodity_ids"] = sorted(str(pk) for pk in partner.commodities.values_list("pk", flat=True))
    return row


def _updated_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=events.PARTNER_UPDATED).order_by("position"))


def _assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    body = response.json()
    assert (response.status_code, body["code"]) == (status, code), body
    return body


@pytest.fixture
def commodities() -> list[Any]:
    return [CommodityFactory(code="COTTON"), CommodityFactory(code="KAPAS")]


def test_the_owner_changes_contact_details_and_commodities(
    authenticate: Any, partner: Any, owner: Any, commodities: Any
) -> None:
    cotton, kapas = commodities

    response = authenticate(owner).patch(
        _url(partner),
        {
            "trade_name": "  Shree Cotton  ",
            "contact_name": "Ramesh Patel",
            "contact_email": "Accounts@ShreeGinning.example",
            "contact_phone": "098765-43210",
            "commodity_ids": [str(kapas.pk), str(cotton.pk), str(cotton.pk)],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["trade_name"], body["contact_name"], body["contact_email"], body["contact_phone"]) == (
        "Shree Cotton",
        "Ramesh Patel",
        "accounts@shreeginning.example",
        "+919876543210",
    )
    assert body["commodity_ids"] == sorted([str(cotton.pk), str(kapas.pk)])
    partner.refresh_from_db()
    assert (partner.trade_name, partner.contact_phone) == ("Shree Cotton", "+919876543210")
    assert set(partner.commodities.all()) == {cotton, kapas}
    [event] = _updated_events()
    assert event.payload == {
        "partner_id": str(partner.pk),
        "fields": ["commodity_ids", "contact_email", "contact_name", "contact_phone", "trade_name"],
    }
    assert (event.actor_id, event.partner_id, event.organization_id) == (owner.pk, partner.pk, partner.organization_id)
    assert (event.aggregate_type, event.aggregate_id) == ("partners.businesspartner", str(partner.pk))


def test_only_the_fields_that_changed_are_saved_and_emitted(authenticate: Any, partner: Any, owner: Any) -> None:
    response = authenticate(owner).patch(
        _url(partner), {"trade_name": partner.trade_name, "contact_name": "Ramesh"}, format="json"
    )

    assert response.status_code == 200
    assert [event.payload["fields"] for event in _updated_events()] == [["contact_name"]]


def test_sending_the_current_values_changes_nothing_and_emits_nothing(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    before = _snapshot(partner)

    response = authenticate(owner).patch(
        _url(partner), {"trade_name": partner.trade_name, "contact_phone": "9812345678"}, format="json"
    )

    assert response.status_code == 200
    assert _snapshot(partner) == before
    assert _updated_events() == []


def test_commodities_can_be_cleared(authenticate: Any, partner: Any, owner: Any, commodities: Any) -> None:
    partner.commodities.set(commodities)

    response = authenticate(owner).patch(_url(partner), {"commodity_ids": []}, format="json")

    assert response.status_code == 200
    assert response.json()["commodity_ids"] == []
    assert partner.commodities.count() == 0
    assert [event.payload["fields"] for event in _updated_events()] == [["commodity_ids"]]


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_change_the_profile(
    request: Any, authenticate: Any, partner: Any, staff: str
) -> None:
    actor = request.getfixturevalue(staff)

    response = authenticate(actor).patch(_url(partner), {"contact_name": "Back office"}, format="json")

    assert response.status_code == 200
    partner.refresh_from_db()
    assert partner.contact_name == "Back office"
    [event] = _updated_events()
    assert event.actor_id == actor.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("legal_name", "Other Name Pvt Ltd"),
        ("pan", "AAPFU0939G"),
        ("gstin", "27AAPFU0939F1Z5"),
        ("bank_account_number", "999988887777"),
        ("bank_ifsc", "HDFC0001234"),
        ("bank_account_holder", "Someone"),
        ("address_line1", "Elsewhere"),
        ("city", "Rajkot"),
        ("state_code", "24"),
        ("pincode", "360001"),
        ("credit_limit", "99999999"),
        ("status", "ACTIVE"),
        ("kyc_status", "VERIFIED"),
        ("trading_capabilities", {"buy": True, "sell": True}),
        ("max_active_users", 50),
        ("master_partner_id", None),
        ("payouts_frozen", False),
    ],
)
def test_legal_tax_bank_address_credit_and_status_fields_need_an_amendment(
    authenticate: Any, partner: Any, owner: Any, field: str, value: Any
) -> None:
    before = _snapshot(partner)

    response = authenticate(owner).patch(_url(partner), {field: value, "contact_name": "Ramesh"}, format="json")

    body = _assert_refused(response, 400, "field_requires_amendment")
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [(field, "field_requires_amendment")]
    assert _snapshot(partner) == before
    assert _updated_events() == []


def test_every_refused_field_is_listed(authenticate: Any, partner: Any, owner: Any) -> None:
    response = authenticate(owner).patch(
        _url(partner), {"pincode": "360001", "legal_name": "X", "bank_ifsc": "HDFC0001234"}, format="json"
    )

    body = _assert_refused(response, 400, "field_requires_amendment")
    assert [error["attr"] for error in body["errors"]] == ["bank_ifsc", "legal_name", "pincode"]
    assert "bank_ifsc, legal_name, pincode" in body["detail"]


def test_unknown_fields_are_refused(authenticate: Any, partner: Any, owner: Any) -> None:
    before = _snapshot(partner)

    response = authenticate(owner).patch(_url(partner), {"nickname": "x", "contact_name": "R"}, format="json")

    body = _assert_refused(response, 400, "validation_failed")
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [("nickname", "unknown_field")]
    assert _snapshot(partner) == before


@pytest.mark.parametrize(
    ("changes", "attr", "code"),
    [
        ({"contact_phone": "12345"}, "contact_phone", "invalid_phone"),
        ({"contact_email": "not-an-email"}, "contact_email", "invalid"),
        ({"trade_name": "x" * 201}, "trade_name", "max_length"),
        ({"commodity_ids": ["not-a-uuid"]}, "commodity_ids", None),
    ],
)
def test_invalid_values_are_refused_on_their_field(
    authenticate: Any, partner: Any, owner: Any, changes: dict[str, Any], attr: str, code: str | None
) -> None:
    before = _snapshot(partner)

    response = authenticate(owner).patch(_url(partner), {**changes, "contact_name": "Ramesh"}, format="json")

    body = _assert_refused(response, 400, "validation_failed")
    assert [error["attr"].split(".")[0] for error in body["errors"]] == [attr]
    if code:
        assert body["errors"][0]["code"] == code
    assert _snapshot(partner) == before
    assert _updated_events() == []


def test_inactive_or_unknown_commodities_are_refused(
    authenticate: Any, partner: Any, owner: Any, commodities: Any
) -> None:
    retired = CommodityFactory(code="YARN", is_active=False)
    before = _snapshot(partner)

    response = authenticate(owner).patch(
        _url(partner), {"commodity_ids": [str(commodities[0].pk), str(retired.pk)]}, format="json"
    )

    body = _assert_refused(response, 400, "validation_failed")
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [("commodity_ids", "unknown_commodity")]
    assert str(retired.pk) in body["errors"][0]["detail"]
    assert _snapshot(partner) == before


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("trader", 403, "permission_denied"),
        ("viewer", 403, "permission_denied"),
        ("kyc_officer", 403, "permission_denied"),
        ("risk_officer", 403, "permission_denied"),
        ("other_partner_owner", 404, "partner_not_found"),
        ("foreign_partner_owner", 404, "partner_not_found"),
        ("other_org_staff", 404, "partner_not_found"),
        ("applicant_of_the_organization", 404, "partner_not_found"),
    ],
)
def test_who_may_not_change_the_profile(
    request: Any, authenticate: Any, partner: Any, owner: Any, who: str, status: int, code: str
) -> None:
    from apps.accounts.tests.factories import ExternalUserFactory

    actors = {
        "other_partner_owner": lambda: request.getfixturevalue("other_partner").owner,
        "foreign_partner_owner": lambda: request.getfixturevalue("foreign_partner").owner,
        "applicant_of_the_organization": lambda: ExternalUserFactory(organization_id=partner.organization_id),
    }
    actor = actors[who]() if who in actors else request.getfixturevalue(who)
    before = _snapshot(partner)

    response = authenticate(actor).patch(_url(partner), {"contact_name": "Intruder"}, format="json")

    _assert_refused(response, status, code)
    assert _snapshot(partner) == before
    assert _updated_events() == []


def test_anonymous_callers_are_refused(api_client: Any, partner: Any) -> None:
    before = _snapshot(partner)

    assert api_client.patch(_url(partner), {"contact_name": "x"}, format="json").status_code == 401
    assert _snapshot(partner) == before


def test_a_viewer_sending_amendment_fields_is_told_it_may_not_change_the_profile(
    authenticate: Any, partner: Any, viewer: Any
) -> None:
    before = _snapshot(partner)

    _assert_refused(
        authenticate(viewer).patch(_url(partner), {"legal_name": "X"}, format="json"), 403, "permission_denied"
    )
    assert _snapshot(partner) == before
    assert _updated_events() == []


@pytest.mark.parametrize(
    ("status", "code"), [(PartnerStatus.SUSPENDED, "partner_suspended"), (PartnerStatus.BLOCKED, "partner_blocked")]
)
def test_a_suspended_or_blocked_partners_users_read_but_do_not_write(
    authenticate: Any, partner: Any, owner: Any, trader: Any, viewer: Any, risk_officer: Any, status: str, code: str
) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=status, reason="GST returns not filed")
    before = _snapshot(partner)

    for user in (owner, trader, viewer):
        response = authenticate(user).get(_url(partner))
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["status_reason"]) == (status, "GST returns not filed")
    response = authenticate(owner).patch(_url(partner), {"contact_name": "Ramesh"}, format="json")

    _assert_refused(response, 403, code)
    assert _snapshot(partner) == before
    assert _updated_events() == []


def test_staff_still_change_a_suspended_partners_profile(
    authenticate: Any, partner: Any, desk_manager: Any, risk_officer: Any
) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status="SUSPENDED", reason="Review")

    response = authenticate(desk_manager).patch(_url(partner), {"contact_name": "Back office"}, format="json")

    assert response.status_code == 200
    assert len(_updated_events()) == 1


def test_the_partner_record_shows_profile_structure_status_and_capabilities_with_the_bank_account_masked(
    authenticate: Any, partner: Any, owner: Any, risk_officer: Any
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(
        address_line1="Plot 4, Market Yard",
        city="Akola",
        state_code="27",
        pincode="444001",
        bank_account_holder="Shree Ginning Private Limited",
        bank_account_number="123456789012",
        bank_ifsc="SBIN0001234",
    )
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status="SUSPENDED", reason="Review")

    response = authenticate(owner).get(_url(partner))

    body = response.json()
    assert response.status_code == 200
    assert {key: body[key] for key in ("address_line1", "city", "state_code", "pincode")} == {
        "address_line1": "Plot 4, Market Yard",
        "city": "Akola",
        "state_code": "27",
        "pincode": "444001",
    }
    assert body["bank_account_number_masked"] == "***9012"
    assert "123456789012" not in response.content.decode()
    assert (body["bank_account_holder"], body["bank_ifsc"], body["payouts_frozen"]) == (
        "Shree Ginning Private Limited",
        "SBIN0001234",
        False,
    )
    assert (body["master_partner_id"], body["corporate_group_id"], body["corporate_group_name"]) == (None, None, None)
    assert (body["status"], body["status_reason"]) == ("SUSPENDED", "Review")
    assert body["status_changed_at"] is not None
    assert body["max_active_users"] == 5
    assert body["capabilities_override"] is None
    partner.refresh_from_db()
    assert body["trading_capabilities"] == partner.trading_capabilities
    assert body["derived_capabilities"] == partner.derived_capabilities
    assert body["commodity_ids"] == []


def test_the_record_names_the_corporate_group_and_master(
    authenticate: Any, partner: Any, other_partner: Any, owner: Any
) -> None:
    from apps.partners.models import CorporateGroup

    group = CorporateGroup.objects.create(organization_id=partner.organization_id, name="Shree Group")
    BusinessPartner.objects.filter(pk=partner.pk).update(corporate_group=group, master_partner=other_partner)

    body = authenticate(owner).get(_url(partner)).json()

    assert (body["corporate_group_id"], body["corporate_group_name"]) == (str(group.pk), "Shree Group")
    assert body["master_partner_id"] == str(other_partner.pk)


def test_the_service_checks_rights_itself_and_takes_only_profile_fields(partner: Any, owner: Any, viewer: Any) -> None:
    """The view refuses amendment fields before parsing (the HTTP tests above); the service has
    no argument for them, so a caller naming one fails at the call, and it checks rights itself."""
    from apps.core.errors import DomainError
    from apps.partners.services.profile import partner_profile_update

    before = _snapshot(partner)
    with pytest.raises(DomainError) as as_viewer:
        partner_profile_update(actor=viewer, partner_id=partner.pk, trade_name="X")
    with pytest.raises(TypeError, match="legal_name"):
        partner_profile_update(actor=owner, partner_id=partner.pk, legal_name="X")

    assert (as_viewer.value.status, as_viewer.value.code) == (403, "permission_denied")
    assert _snapshot(partner) == before

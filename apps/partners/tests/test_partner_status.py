"""SPEC section 6: a partner is ACTIVE, SUSPENDED (no new postings or trades) or BLOCKED
(nothing), with reason and time; changes by the back office only, audited, emitted."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.partners import events
from apps.partners.models import BusinessPartner, PartnerMembership, PartnerStatus
from apps.partners.services.status import partner_change_status

pytestmark = pytest.mark.django_db

ACTIVE, SUSPENDED, BLOCKED = PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED, PartnerStatus.BLOCKED


def _url(partner: Any) -> str:
    return f"/api/v1/partners/{partner.pk}/status"


def _snapshot(partner: Any) -> dict[str, Any]:
    return BusinessPartner.objects.filter(pk=partner.pk).values().get()


def _status_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=events.PARTNER_STATUS_CHANGED).order_by("position"))


def _set_status(partner: Any, status: str) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(status=status)


def test_a_risk_officer_suspends_a_partner_with_a_reason(partner: Any, risk_officer: Any) -> None:
    result = partner_change_status(
        actor=risk_officer, partner_id=partner.pk, status=SUSPENDED, reason="  Cheque bounced twice  "
    )

    partner.refresh_from_db()
    assert result.pk == partner.pk
    assert (partner.status, partner.status_reason, partner.status_changed_by) == (
        SUSPENDED,
        "Cheque bounced twice",
        risk_officer,
    )
    assert partner.status_changed_at is not None
    [event] = _status_events()
    assert event.payload == {
        "partner_id": str(partner.pk),
        "from": "ACTIVE",
        "to": "SUSPENDED",
        "reason": "Cheque bounced twice",
    }
    assert (event.actor_id, event.partner_id, event.organization_id) == (
        risk_officer.pk,
        partner.pk,
        partner.organization_id,
    )


def test_the_change_is_audited(partner: Any, risk_officer: Any) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=BLOCKED, reason="Fraud")

    history = list(BusinessPartner.pgh_event_model.objects.filter(pgh_obj_id=partner.pk).order_by("pgh_id"))  # type: ignore[attr-defined]
    assert (history[-1].status, history[-1].status_reason) == ("BLOCKED", "Fraud")


@pytest.mark.parametrize(
    ("start", "target"),
    [(ACTIVE, SUSPENDED), (SUSPENDED, ACTIVE), (ACTIVE, BLOCKED), (SUSPENDED, BLOCKED), (BLOCKED, ACTIVE)],
)
def test_allowed_transitions(partner: Any, director: Any, start: str, target: str) -> None:
    _set_status(partner, start)

    partner_change_status(actor=director, partner_id=partner.pk, status=target, reason="Decided")

    partner.refresh_from_db()
    assert partner.status == target
    assert [(e.payload["from"], e.payload["to"]) for e in _status_events()] == [(start, target)]


@pytest.mark.parametrize(
    ("start", "target", "code"),
    [
        (ACTIVE, ACTIVE, "status_unchanged"),
        (SUSPENDED, SUSPENDED, "status_unchanged"),
        (BLOCKED, BLOCKED, "status_unchanged"),
        (BLOCKED, SUSPENDED, "invalid_status_transition"),
    ],
)
def test_refused_transitions_change_nothing(
    partner: Any, risk_officer: Any, start: str, target: str, code: str
) -> None:
    _set_status(partner, start)
    before = _snapshot(partner)

    with pytest.raises(DomainError) as refused:
        partner_change_status(actor=risk_officer, partner_id=partner.pk, status=target, reason="Again")

    assert (refused.value.code, refused.value.status) == (code, 409)
    assert _snapshot(partner) == before
    assert _status_events() == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(authenticate: Any, partner: Any, risk_officer: Any, reason: str) -> None:
    before = _snapshot(partner)

    with pytest.raises(DomainError) as refused:
        partner_change_status(actor=risk_officer, partner_id=partner.pk, status=SUSPENDED, reason=reason)
    response = authenticate(risk_officer).post(_url(partner), {"status": SUSPENDED, "reason": reason}, format="json")

    assert (refused.value.code, refused.value.errors[0]["attr"]) == ("validation_failed", "reason")
    assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "reason")
    assert _snapshot(partner) == before
    assert _status_events() == []


def test_reactivation_is_refused_while_another_active_partner_has_the_gstin(
    partner: Any, other_partner: Any, risk_officer: Any
) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=SUSPENDED, reason="Review")
    BusinessPartner.objects.filter(pk=other_partner.pk).update(gstin=partner.gstin)
    before = _snapshot(partner)

    with pytest.raises(DomainError) as refused:
        partner_change_status(actor=risk_officer, partner_id=partner.pk, status=ACTIVE, reason="Cleared")

    assert (refused.value.code, refused.value.status) == ("duplicate_active_gstin", 409)
    assert _snapshot(partner) == before
    assert len(_status_events()) == 1


# --- the staff API -------------------------------------------------------------------------------


def test_staff_change_the_status_through_the_api(authenticate: Any, partner: Any, risk_officer: Any) -> None:
    response = authenticate(risk_officer).post(
        _url(partner), {"status": "BLOCKED", "reason": "Forged documents"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["status_reason"]) == ("BLOCKED", "Forged documents")
    assert body["status_changed_at"] is not None
    assert [e.payload["to"] for e in _status_events()] == ["BLOCKED"]


def test_the_api_refuses_the_same_status_with_409(authenticate: Any, partner: Any, director: Any) -> None:
    response = authenticate(director).post(_url(partner), {"status": "ACTIVE", "reason": "x"}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "status_unchanged")
    assert _status_events() == []


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("owner", 403, "permission_denied"),
        ("trader", 403, "permission_denied"),
        ("viewer", 403, "permission_denied"),
        ("kyc_officer", 403, "permission_denied"),
        ("desk_manager", 403, "permission_denied"),
        ("other_partner_owner", 404, "partner_not_found"),
        ("foreign_partner_owner", 404, "partner_not_found"),
        ("other_org_staff", 404, "partner_not_found"),
    ],
)
def test_who_may_not_change_a_partners_status(
    request: Any, authenticate: Any, partner: Any, who: str, status: int, code: str
) -> None:
    if who.endswith("_partner_owner"):
        actor = request.getfixturevalue(who.removesuffix("_owner")).owner
    else:
        actor = request.getfixturevalue(who)
    before = _snapshot(partner)

    response = authenticate(actor).post(_url(partner), {"status": "SUSPENDED", "reason": "Mine"}, format="json")
    with pytest.raises(DomainError) as refused:
        partner_change_status(actor=actor, partner_id=partner.pk, status=SUSPENDED, reason="Mine")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert _snapshot(partner) == before
    assert _status_events() == []


def test_a_partner_user_is_refused_before_its_body_is_read(authenticate: Any, partner: Any, owner: Any) -> None:
    response = authenticate(owner).post(_url(partner), {}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_anonymous_callers_are_refused(api_client: Any, partner: Any) -> None:
    assert api_client.post(_url(partner), {"status": "SUSPENDED", "reason": "x"}, format="json").status_code == 401
    assert _status_events() == []


# --- what the status means for the partner's users -----------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(SUSPENDED, "partner_suspended"), (BLOCKED, "partner_blocked")])
def test_a_suspended_or_blocked_partners_users_read_but_cannot_write(
    authenticate: Any, partner: Any, owner: Any, trader: Any, viewer: Any, risk_officer: Any, status: str, code: str
) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=status, reason="Overdue")
    memberships = PartnerMembership.objects.count()

    for user in (owner, trader, viewer):
        client = authenticate(user)
        assert client.get(f"/api/v1/partners/{partner.pk}").status_code == 200
        assert client.get(f"/api/v1/partners/{partner.pk}/employees/").status_code == 200
    profile = authenticate(owner).patch(f"/api/v1/partners/{partner.pk}", {"contact_name": "X"}, format="json")
    invite = authenticate(owner).post(
        f"/api/v1/partners/{partner.pk}/employees/",
        {"mobile": "9811100001", "full_name": "New Hire", "role": "VIEWER"},
        format="json",
    )

    assert (profile.status_code, profile.json()["code"]) == (403, code)
    assert (invite.status_code, invite.json()["code"]) == (403, code)
    assert PartnerMembership.objects.count() == memberships


def test_a_reactivated_partners_owner_writes_again(
    authenticate: Any, partner: Any, owner: Any, risk_officer: Any
) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=BLOCKED, reason="Fraud suspected")
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=ACTIVE, reason="Cleared by audit")

    response = authenticate(owner).patch(f"/api/v1/partners/{partner.pk}", {"contact_name": "Back"}, format="json")

    assert response.status_code == 200
    assert [(e.payload["from"], e.payload["to"]) for e in _status_events()] == [
        ("ACTIVE", "BLOCKED"),
        ("BLOCKED", "ACTIVE"),
    ]


# --- the admin buttons -------------------------------------------------------------------------


def _admin(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _action_url(partner: Any, tool: str) -> str:
    return f"/admin/partners/businesspartner/{partner.pk}/actions/{tool}/"


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_admin_suspends_blocks_and_reactivates_with_a_reason(partner: Any, risk_officer: Any) -> None:
    admin = _admin(risk_officer)
    page = admin.get(f"/admin/partners/businesspartner/{partner.pk}/change/")
    assert page.status_code == 200
    for tool in ("suspend", "block"):
        assert f"actions/{tool}/" in page.content.decode()
    assert "actions/reactivate/" not in page.content.decode()  # an active partner (issue 17)
    assert admin.get(_action_url(partner, "suspend")).status_code == 200

    for tool, reason, expected in (
        ("suspend", "Overdue payments", SUSPENDED),
        ("block", "Fraud", BLOCKED),
        ("reactivate", "Cleared", ACTIVE),
    ):
        response = admin.post(_action_url(partner, tool), {"reason": reason})
        assert response.status_code == 302
        partner.refresh_from_db()
        assert (partner.status, partner.status_reason, partner.status_changed_by) == (expected, reason, risk_officer)
    assert [(e.payload["to"], e.actor_id) for e in _status_events()] == [
        ("SUSPENDED", risk_officer.pk),
        ("BLOCKED", risk_officer.pk),
        ("ACTIVE", risk_officer.pk),
    ]


def test_the_admin_reports_a_refusal_and_changes_nothing(partner: Any, risk_officer: Any, desk_manager: Any) -> None:
    before = _snapshot(partner)

    same = _admin(risk_officer).post(_action_url(partner, "reactivate"), {"reason": "x"}, follow=True)
    unauthorised = _admin(desk_manager).post(_action_url(partner, "suspend"), {"reason": "x"}, follow=True)
    no_reason = _admin(risk_officer).post(_action_url(partner, "suspend"), {"reason": ""})

    # The form again, the refusal on it (issue 17).
    assert "(status_unchanged)" in same.content.decode()
    assert "(permission_denied)" in unauthorised.content.decode()
    assert no_reason.status_code == 200  # the form again, with its error
    assert _snapshot(partner) == before
    assert _status_events() == []


def test_the_admin_of_another_organization_cannot_change_the_status(partner: Any, other_org_staff: Any) -> None:
    before = _snapshot(partner)

    _admin(other_org_staff).post(_action_url(partner, "block"), {"reason": "x"})

    assert _snapshot(partner) == before
    assert _status_events() == []

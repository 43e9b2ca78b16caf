"""SPEC section 2 "Partner employees": the owner invites employees (mobile, name, role), a partner
has a configurable maximum of active users (default 5), and disabling a user ends its sessions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.events import USER_CREATED, USER_DEACTIVATED
from apps.accounts.models import SmsMessage, User, UserType
from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.accounts.tokens import issue_tokens
from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.partners import events
from apps.partners.models import (
    BusinessPartner,
    BusinessPartnerUserObjectPermission,
    MembershipRole,
    PartnerMembership,
    PartnerStatus,
)
from apps.partners.permissions import MANAGE_EMPLOYEES, TRADE_FOR_PARTNER, VIEW_PARTNER
from apps.partners.services import employees
from apps.partners.services.status import partner_change_status
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db

MOBILE = "+919811100001"
EMPLOYEE_EVENTS = (
    events.EMPLOYEE_INVITED,
    events.EMPLOYEE_ROLE_CHANGED,
    events.EMPLOYEE_DISABLED,
    events.EMPLOYEE_ENABLED,
    USER_CREATED,
    USER_DEACTIVATED,
)


def _list_url(partner: Any) -> str:
    return f"/api/v1/partners/{partner.pk}/employees/"


def _url(partner: Any, user: Any, action: str = "") -> str:
    return f"/api/v1/partners/{partner.pk}/employees/{user.pk}" + (f"/{action}" if action else "")


def _invite_body(mobile: str = "98111 00001", role: str = "TRADER", name: str = "Suresh Kumar") -> dict[str, str]:
    return {"mobile": mobile, "full_name": name, "role": role}


def _events(*types: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type__in=types or EMPLOYEE_EVENTS).order_by("position"))


def _state() -> dict[str, Any]:
    """Everything an employee write may touch."""
    return {
        "users": sorted(User.objects.values_list("id", "is_active", "tokens_valid_after")),
        "memberships": sorted(PartnerMembership.objects.values_list("id", "role", "is_active", "disabled_at")),
        "events": sorted(OutboxEvent.objects.filter(type__in=EMPLOYEE_EVENTS).values_list("id", flat=True)),
        "sms": SmsMessage.objects.count(),
        "object_perms": sorted(
            BusinessPartnerUserObjectPermission.objects.values_list("user_id", "content_object_id", "permission_id")
        ),
        "groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
    }


def _refused(response: Any, status: int, code: str) -> None:
    body = response.json()
    assert (response.status_code, body["code"]) == (status, code), body


def _partner_perms(user: Any, partner: Any) -> set[str]:
    fresh = User.objects.get(pk=user.pk)  # guardian caches per user object
    return {perm for perm in (VIEW_PARTNER, TRADE_FOR_PARTNER, MANAGE_EMPLOYEES) if fresh.has_perm(perm, partner)}


def _roles(user: Any) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


# --- listing ------------------------------------------------------------------------------------


def test_members_and_staff_list_the_partners_users_with_masked_mobiles(
    authenticate: Any, partner: Any, owner: Any, kyc_officer: Any
) -> None:
    trader = employees.employee_invite(
        actor=owner, partner_id=partner.pk, mobile="9811100001", full_name="Suresh Kumar", role="TRADER"
    ).user

    for reader in (owner, trader, kyc_officer):
        response = authenticate(reader).get(_list_url(partner))
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [(row["user_id"], row["role"], row["is_active"]) for row in rows] == [
            (str(owner.pk), "OWNER", True),
            (str(trader.pk), "TRADER", True),
        ]
    assert rows[1]["full_name"] == "Suresh Kumar"
    assert rows[1]["mobile_masked"] == "***0001"
    assert rows[1]["invited_by"] == {"id": str(owner.pk), "full_name": owner.full_name}
    assert rows[0]["invited_by"] is None
    assert rows[1]["disabled_at"] is None
    assert "9811100001" not in response.content.decode()


def test_the_list_costs_the_same_queries_for_one_or_five_users(authenticate: Any, partner: Any, owner: Any) -> None:
    client = authenticate(owner)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(_list_url(partner)).json()["results"]) == 1
    for role in ("TRADER", "VIEWER", "TRADER", "VIEWER"):
        factories.member(partner, role)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(_list_url(partner)).json()["results"]) == 5

    assert len(five) == len(one)


@pytest.fixture
def stranger(organization: Any) -> Any:
    """An external user of the organization without a partner (an applicant)."""
    return ExternalUserFactory(organization=organization)


@pytest.mark.parametrize("who", ["other_partner", "foreign_partner", "other_org_staff", "stranger"])
def test_outsiders_do_not_see_the_list(request: Any, authenticate: Any, partner: Any, who: str) -> None:
    actor = request.getfixturevalue(who)
    actor = getattr(actor, "owner", actor)

    _refused(authenticate(actor).get(_list_url(partner)), 404, "partner_not_found")


# --- inviting -----------------------------------------------------------------------------------


class _DownGateway:
    """An SMS gateway that is down (the external service, not our stack)."""

    def send(self, *, to: str, body: str) -> None:
        from apps.accounts.errors import SmsUnavailable

        raise SmsUnavailable()


def test_a_gateway_failure_keeps_the_invitation_and_logs_no_number(
    settings: Any, authenticate: Any, partner: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from structlog.testing import capture_logs

    settings.SMS_BACKEND = f"{__name__}._DownGateway"
    with capture_logs() as logs, django_capture_on_commit_callbacks(execute=True):
        response = authenticate(owner).post(_list_url(partner), _invite_body(), format="json")

    assert response.status_code == 201, response.json()
    membership = PartnerMembership.objects.get(user__mobile=MOBILE)
    assert (membership.partner_id, membership.is_active, SmsMessage.objects.count()) == (partner.pk, True, 0)
    [failure] = [line for line in logs if line["event"] == "partners.employee_invitation_sms_failed"]
    assert failure["membership_id"] == str(membership.pk)
    assert MOBILE[-10:] not in repr(logs)


def test_the_owner_invites_an_employee_who_gets_an_sms_after_commit(
    authenticate: Any, partner: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = authenticate(owner).post(_list_url(partner), _invite_body(), format="json")
    assert response.status_code == 201, response.json()
    assert SmsMessage.objects.count() == 0  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()

    user = User.objects.get(mobile=MOBILE)
    assert (user.user_type, user.organization_id, user.full_name, user.is_active) == (
        UserType.EXTERNAL,
        partner.organization_id,
        "Suresh Kumar",
        True,
    )
    membership = PartnerMembership.objects.get(user=user)
    assert (membership.partner_id, membership.role, membership.is_active, membership.invited_by) == (
        partner.pk,
        "TRADER",
        True,
        owner,
    )
    assert _partner_perms(user, partner) == {VIEW_PARTNER, TRADE_FOR_PARTNER}
    assert _roles(user) == {Role.PARTNER_TRADER}
    assert response.json() == {
        "user_id": str(user.pk),
        "full_name": "Suresh Kumar",
        "mobile_masked": "***0001",
        "role": "TRADER",
        "is_active": True,
        "invited_by": {"id": str(owner.pk), "full_name": owner.full_name},
        "created_at": response.json()["created_at"],
        "disabled_at": None,
    }
    created, invited = _events()
    assert (created.type, created.aggregate_id, created.actor_id) == (USER_CREATED, str(user.pk), owner.pk)
    assert invited.type == events.EMPLOYEE_INVITED
    assert invited.payload == {
        "partner_id": str(partner.pk),
        "membership_id": str(membership.pk),
        "user_id": str(user.pk),
        "role": "TRADER",
        "invited_by": str(owner.pk),
    }
    assert (invited.actor_id, invited.partner_id, invited.organization_id) == (
        owner.pk,
        partner.pk,
        partner.organization_id,
    )
    sms = SmsMessage.objects.get()
    assert sms.to == MOBILE
    assert sms.body == (
        "Shree Ginning invited you to Cotton ERP as trader. "
        "Sign in with this mobile number: you will receive a one-time code."
    )


@pytest.mark.parametrize("staff", ["director"])
def test_staff_with_the_capability_invite(request: Any, authenticate: Any, partner: Any, staff: str) -> None:
    actor = request.getfixturevalue(staff)

    response = authenticate(actor).post(_list_url(partner), _invite_body(role="OWNER"), format="json")

    assert response.status_code == 201
    membership = PartnerMembership.objects.get(user__mobile=MOBILE)
    assert (membership.role, membership.invited_by) == ("OWNER", actor)


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("trader", 403, "permission_denied"),
        ("viewer", 403, "permission_denied"),
        ("kyc_officer", 403, "permission_denied"),
        ("desk_manager", 403, "permission_denied"),
        ("risk_officer", 403, "permission_denied"),
        ("other_partner", 404, "partner_not_found"),
        ("foreign_partner", 404, "partner_not_found"),
        ("other_org_staff", 404, "partner_not_found"),
        ("stranger", 404, "partner_not_found"),
    ],
)
def test_who_may_not_invite(request: Any, authenticate: Any, partner: Any, who: str, status: int, code: str) -> None:
    actor = request.getfixturevalue(who)
    actor = getattr(actor, "owner", actor)
    before = _state()

    _refused(authenticate(actor).post(_list_url(partner), _invite_body(), format="json"), status, code)
    with pytest.raises(DomainError) as refused:
        employees.employee_invite(actor=actor, partner_id=partner.pk, mobile=MOBILE, full_name="X", role="TRADER")

    assert refused.value.code == code
    assert _state() == before


def test_the_active_user_limit_is_enforced_and_disabled_users_do_not_count(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(max_active_users=2)
    client = authenticate(owner)
    assert client.post(_list_url(partner), _invite_body("9811100001"), format="json").status_code == 201
    before = _state()

    _refused(
        client.post(_list_url(partner), _invite_body("9811100002"), format="json"), 409, "partner_user_limit_reached"
    )
    assert _state() == before

    first = User.objects.get(mobile="+919811100001")
    assert client.post(_url(partner, first, "disable"), {}, format="json").status_code == 200
    assert client.post(_list_url(partner), _invite_body("9811100002"), format="json").status_code == 201
    assert PartnerMembership.objects.filter(partner=partner, is_active=True).count() == 2


def test_the_default_limit_is_five_active_users(partner: Any, owner: Any) -> None:
    for n in range(4):
        employees.employee_invite(
            actor=owner, partner_id=partner.pk, mobile=f"981110000{n}", full_name=f"E{n}", role="VIEWER"
        )

    with pytest.raises(DomainError) as refused:
        employees.employee_invite(
            actor=owner, partner_id=partner.pk, mobile="9811100009", full_name="E9", role="VIEWER"
        )

    assert refused.value.code == "partner_user_limit_reached"
    assert PartnerMembership.objects.filter(partner=partner, is_active=True).count() == 5


@pytest.mark.parametrize("spelling", ["+91 98111 00001", "09811100001", "919811100001"])
def test_a_mobile_any_user_already_has_is_refused(
    authenticate: Any, partner: Any, owner: Any, organization: Any, spelling: str
) -> None:
    UserFactory(organization=organization, mobile=MOBILE)  # a staff member, even
    before = _state()

    _refused(authenticate(owner).post(_list_url(partner), _invite_body(spelling), format="json"), 409, "mobile_in_use")

    assert _state() == before


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        (_invite_body("12345"), "mobile"),
        (_invite_body(role="ADMIN"), "role"),
        (_invite_body(name=""), "full_name"),
        ({"full_name": "X", "role": "TRADER"}, "mobile"),
    ],
)
def test_bad_invitations_are_refused_on_their_field(
    authenticate: Any, partner: Any, owner: Any, body: dict[str, str], attr: str
) -> None:
    before = _state()

    response = authenticate(owner).post(_list_url(partner), body, format="json")

    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == [attr]
    assert _state() == before


def test_the_invitee_signs_in_by_otp_without_an_organization_code_and_sees_its_partner_and_role(
    authenticate: Any, partner: Any, owner: Any
) -> None:
    authenticate(owner).post(_list_url(partner), _invite_body(role="VIEWER"), format="json")
    client = APIClient()

    requested = client.post("/api/v1/auth/otp/request", {"mobile": "9811100001"}, format="json")
    assert requested.status_code == 202, requested.json()
    code = re.search(r"\b(\d{6})\b", SmsMessage.objects.filter(to=MOBILE).latest("created_at").body).group(1)  # type: ignore[union-attr]
    verified = client.post("/api/v1/auth/otp/verify", {"mobile": MOBILE, "code": code}, format="json")
    assert verified.status_code == 200, verified.json()
    assert verified.json()["created"] is False
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {verified.json()['access']}")
    me = client.get("/api/v1/me").json()

    assert me["partner"] == {
        "id": str(partner.pk),
        "code": partner.code,
        "name": partner.legal_name,
        "role": "VIEWER",
    }
    assert me["roles"] == [Role.PARTNER_VIEWER]
    assert User.objects.get(mobile=MOBILE).is_verified is True
    assert client.get(f"/api/v1/partners/{partner.pk}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_invitations_never_exceed_the_limit(partner: Any, owner: Any, run_concurrently: Any) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(max_active_users=3)
    mobiles = iter(f"98111000{n:02d}" for n in range(6))

    def invite() -> str:
        mobile = next(mobiles)
        try:
            employees.employee_invite(actor=owner, partner_id=partner.pk, mobile=mobile, full_name="E", role="VIEWER")
        except DomainError as exc:
            return exc.code
        return "invited"

    results = run_concurrently(invite, times=6)

    assert [r.error for r in results] == [None] * 6
    assert sorted(r.value for r in results) == ["invited"] * 2 + ["partner_user_limit_reached"] * 4
    assert PartnerMembership.objects.filter(partner=partner, is_active=True).count() == 3
    assert User.objects.filter(partner_membership__partner=partner).count() == 3  # no orphan users
    assert OutboxEvent.objects.filter(type=events.EMPLOYEE_INVITED).count() == 2
    assert SmsMessage.objects.filter(body__contains="invited you").count() == 2


@pytest.mark.django_db(transaction=True)
def test_one_mobile_invited_to_two_partners_at_once_goes_to_one(
    partner: Any, owner: Any, other_partner: Any, run_concurrently: Any
) -> None:
    targets = iter([(partner, owner), (other_partner, other_partner.owner)])

    def invite() -> str:
        target, actor = next(targets)
        try:
            employees.employee_invite(actor=actor, partner_id=target.pk, mobile=MOBILE, full_name="E", role="VIEWER")
        except DomainError as exc:
            return exc.code
        return "invited"

    results = run_concurrently(invite, times=2)

    assert sorted(r.value for r in results) == ["invited", "mobile_in_use"]
    assert User.objects.filter(mobile=MOBILE).count() == 1
    assert PartnerMembership.objects.filter(user__mobile=MOBILE).count() == 1


# --- changing roles -----------------------------------------------------------------------------


def test_the_owner_changes_a_role_and_the_rights_follow(
    authenticate: Any, partner: Any, owner: Any, trader: Any
) -> None:
    response = authenticate(owner).patch(_url(partner, trader), {"role": "VIEWER"}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "VIEWER"
    assert PartnerMembership.objects.get(user=trader).role == "VIEWER"
    assert _partner_perms(trader, partner) == {VIEW_PARTNER}
    assert _roles(trader) == {Role.PARTNER_VIEWER}
    [event] = _events()
    assert event.type == events.EMPLOYEE_ROLE_CHANGED
    assert (event.payload["from"], event.payload["to"], event.payload["user_id"]) == (
        "TRADER",
        "VIEWER",
        str(trader.pk),
    )

    authenticate(owner).patch(_url(partner, trader), {"role": "OWNER"}, format="json")
    assert _partner_perms(trader, partner) == {VIEW_PARTNER, TRADE_FOR_PARTNER, MANAGE_EMPLOYEES}
    assert authenticate(trader).get("/api/v1/me").json()["partner"]["role"] == "OWNER"


def test_the_same_role_again_changes_nothing(authenticate: Any, partner: Any, owner: Any, trader: Any) -> None:
    before = _state()

    response = authenticate(owner).patch(_url(partner, trader), {"role": "TRADER"}, format="json")

    assert response.status_code == 200
    assert _state() == before


def test_the_last_owner_cannot_be_demoted_or_disabled(authenticate: Any, partner: Any, owner: Any) -> None:
    before = _state()
    client = authenticate(owner)

    _refused(client.patch(_url(partner, owner), {"role": "TRADER"}, format="json"), 409, "last_owner")
    _refused(client.post(_url(partner, owner, "disable"), {}, format="json"), 409, "last_owner")

    assert _state() == before


def test_an_owner_steps_down_once_there_is_another_owner(authenticate: Any, partner: Any, owner: Any) -> None:
    second = factories.member(partner, "OWNER")

    response = authenticate(owner).patch(_url(partner, owner), {"role": "VIEWER"}, format="json")

    assert (response.status_code, response.json()["role"]) == (200, "VIEWER")
    assert PartnerMembership.objects.get(user=owner).role == "VIEWER"
    assert _partner_perms(owner, partner) == {VIEW_PARTNER}
    _refused(authenticate(second).post(_url(partner, second, "disable"), {}, format="json"), 409, "last_owner")


def test_a_disabled_owner_does_not_count_as_the_other_owner(partner: Any, owner: Any, director: Any) -> None:
    second = factories.member(partner, "OWNER")
    employees.employee_disable(actor=director, partner_id=partner.pk, user_id=second.pk)

    with pytest.raises(DomainError) as refused:
        employees.employee_change_role(actor=director, partner_id=partner.pk, user_id=owner.pk, role="TRADER")

    assert refused.value.code == "last_owner"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("trader", 403, "permission_denied"),
        ("viewer", 403, "permission_denied"),
        ("kyc_officer", 403, "permission_denied"),
        ("other_partner", 404, "partner_not_found"),
        ("other_org_staff", 404, "partner_not_found"),
    ],
)
def test_who_may_not_change_roles_or_disable(
    request: Any, authenticate: Any, partner: Any, trader: Any, who: str, status: int, code: str
) -> None:
    actor = request.getfixturevalue(who)
    actor = getattr(actor, "owner", actor)
    target = factories.member(partner, "VIEWER")
    before = _state()
    client = authenticate(actor)

    _refused(client.patch(_url(partner, target), {"role": "OWNER"}, format="json"), status, code)
    _refused(client.post(_url(partner, target, "disable"), {}, format="json"), status, code)

    assert _state() == before


def test_a_user_of_another_partner_is_not_found_here(
    authenticate: Any, partner: Any, owner: Any, other_partner: Any
) -> None:
    before = _state()
    client = authenticate(owner)

    _refused(
        client.patch(_url(partner, other_partner.owner), {"role": "VIEWER"}, format="json"), 404, "employee_not_found"
    )
    _refused(client.post(_url(partner, other_partner.owner, "disable"), {}, format="json"), 404, "employee_not_found")
    _refused(client.post(_url(partner, other_partner.owner, "enable"), {}, format="json"), 404, "employee_not_found")

    assert _state() == before


# --- disabling and enabling ---------------------------------------------------------------------


def test_disabling_revokes_rights_sessions_and_the_account_in_one_go(
    authenticate: Any, partner: Any, owner: Any, trader: Any
) -> None:
    tokens = issue_tokens(trader)
    trader_client = APIClient()
    trader_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert trader_client.get(f"/api/v1/partners/{partner.pk}").status_code == 200

    response = authenticate(owner).post(_url(partner, trader, "disable"), {"reason": "Left the company"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["is_active"], body["disabled_at"] is not None) == (False, True)
    membership = PartnerMembership.objects.get(user=trader)
    assert (membership.is_active, membership.disabled_at is not None) == (False, True)
    trader.refresh_from_db()
    assert trader.is_active is False
    assert trader.tokens_valid_after is not None
    assert not OutstandingToken.objects.filter(user=trader, blacklistedtoken__isnull=True).exists()
    assert _partner_perms(trader, partner) == set()
    assert _roles(trader) == set()
    assert trader_client.get(f"/api/v1/partners/{partner.pk}").status_code == 401
    refreshed = APIClient().post("/api/v1/auth/token/refresh", {"refresh": tokens.refresh}, format="json")
    assert refreshed.status_code == 401
    deactivated, disabled = _events()
    assert (deactivated.type, deactivated.aggregate_id, deactivated.payload["reason"]) == (
        USER_DEACTIVATED,
        str(trader.pk),
        "Left the company",
    )
    assert disabled.type == events.EMPLOYEE_DISABLED
    assert disabled.payload == {
        "partner_id": str(partner.pk),
        "membership_id": str(membership.pk),
        "user_id": str(trader.pk),
        "role": "TRADER",
        "reason": "Left the company",
    }


def test_a_disabled_user_is_refused_an_otp(partner: Any, owner: Any, director: Any) -> None:
    employee = employees.employee_invite(
        actor=owner, partner_id=partner.pk, mobile=MOBILE, full_name="E", role="TRADER"
    ).user
    employees.employee_disable(actor=director, partner_id=partner.pk, user_id=employee.pk)

    response = APIClient().post("/api/v1/auth/otp/request", {"mobile": MOBILE}, format="json")

    # The answer every number gets (issue 14: no enumeration), and no code is sent.
    assert response.status_code == 202
    assert SmsMessage.objects.filter(body__contains="sign-in code").count() == 0


def test_disabling_twice_and_changing_a_disabled_users_role_are_refused(
    authenticate: Any, partner: Any, owner: Any, trader: Any
) -> None:
    client = authenticate(owner)
    client.post(_url(partner, trader, "disable"), {}, format="json")
    before = _state()

    _refused(client.post(_url(partner, trader, "disable"), {}, format="json"), 409, "employee_already_disabled")
    _refused(client.patch(_url(partner, trader), {"role": "VIEWER"}, format="json"), 409, "employee_disabled")

    assert _state() == before


def test_enabling_restores_the_account_and_its_rights_but_not_its_old_sessions(
    authenticate: Any, partner: Any, owner: Any, trader: Any
) -> None:
    old_access = issue_tokens(trader).access
    client = authenticate(owner)
    client.post(_url(partner, trader, "disable"), {}, format="json")

    response = client.post(_url(partner, trader, "enable"), {}, format="json")

    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["disabled_at"]) == (True, None)
    membership = PartnerMembership.objects.get(user=trader)
    assert (membership.is_active, membership.disabled_at) == (True, None)
    assert User.objects.get(pk=trader.pk).is_active is True
    assert _partner_perms(trader, partner) == {VIEW_PARTNER, TRADE_FOR_PARTNER}
    assert _roles(trader) == {Role.PARTNER_TRADER}
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Bearer {old_access}")
    assert old.get(f"/api/v1/partners/{partner.pk}").status_code == 401
    assert authenticate(trader).get(f"/api/v1/partners/{partner.pk}").status_code == 200
    enabled = _events(events.EMPLOYEE_ENABLED)
    assert [(e.payload["user_id"], e.payload["role"], e.actor_id) for e in enabled] == [
        (str(trader.pk), "TRADER", owner.pk)
    ]
    reactivated = _events("accounts.user.reactivated")
    assert [(e.aggregate_id, e.payload["is_active"]) for e in reactivated] == [(str(trader.pk), True)]


def test_enabling_is_refused_at_the_limit_and_for_an_active_user(
    authenticate: Any, partner: Any, owner: Any, trader: Any
) -> None:
    client = authenticate(owner)
    client.post(_url(partner, trader, "disable"), {}, format="json")
    BusinessPartner.objects.filter(pk=partner.pk).update(max_active_users=1)
    before = _state()

    _refused(client.post(_url(partner, trader, "enable"), {}, format="json"), 409, "partner_user_limit_reached")
    _refused(client.post(_url(partner, owner, "enable"), {}, format="json"), 409, "employee_already_active")

    assert _state() == before


# --- a suspended partner ------------------------------------------------------------------------


def test_a_suspended_partners_owner_reads_but_cannot_manage_users(
    authenticate: Any, partner: Any, owner: Any, trader: Any, risk_officer: Any, director: Any
) -> None:
    partner_change_status(actor=risk_officer, partner_id=partner.pk, status=PartnerStatus.SUSPENDED, reason="Review")
    before = _state()
    client = authenticate(owner)

    assert client.get(_list_url(partner)).status_code == 200
    _refused(client.post(_list_url(partner), _invite_body(), format="json"), 403, "partner_suspended")
    _refused(client.patch(_url(partner, trader), {"role": "VIEWER"}, format="json"), 403, "partner_suspended")
    _refused(client.post(_url(partner, trader, "disable"), {}, format="json"), 403, "partner_suspended")
    _refused(client.post(_url(partner, trader, "enable"), {}, format="json"), 403, "partner_suspended")
    assert _state() == before

    # The back office still can (e.g. to disable a user of a suspended partner).
    response = authenticate(director).post(_url(partner, trader, "disable"), {}, format="json")
    assert response.status_code == 200


def test_membership_rows_of_invited_users_link_to_an_external_user_only(partner: Any, owner: Any) -> None:
    membership = employees.employee_invite(
        actor=owner, partner_id=partner.pk, mobile=MOBILE, full_name="E", role=MembershipRole.VIEWER
    )

    assert membership.user.user_type == UserType.EXTERNAL
    assert not membership.user.is_staff
    assert not Group.objects.filter(user=membership.user).exclude(name=Role.PARTNER_VIEWER).exists()

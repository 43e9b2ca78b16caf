"""The permission matrix of every partner endpoint (ARCHITECTURE section 13, issue 5).

Each row is one operation; each column one caller: anonymous, staff of another organization, the
owner of another partner of the same organization, the partner's own viewer and owner, a KYC
officer and a desk manager of its organization (and, where it matters, a risk officer). Every
cell asserts the status and, for refusals, that nothing changed anywhere: no outbox event, no
audit-history row, no row of any partners or accounts table. Allowed writes must leave a trace
(an event), so a cell cannot pass by doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ExternalUserFactory
from apps.accounts.tokens import issue_tokens
from apps.events.models import OutboxEvent
from apps.partners.models import PartnerAmendment, Vehicle
from apps.partners.services.amendments import amendment_request
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "other_org_staff", "other_partner_owner", "viewer", "owner", "kyc_officer", "desk_manager")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]  # world -> URL
    expected: dict[str, int]  # actor -> status
    body: Callable[[dict[str, Any]], Any] = field(default=lambda world: {})
    multipart: bool = False
    on_transporter: bool = False  # the partner is the transporter (vehicles); its own users act


def _statuses(anon: int, other_org: int, other_partner: int, viewer: int, owner: int, kyc: int, desk: int) -> dict:
    return dict(zip(ACTORS, (anon, other_org, other_partner, viewer, owner, kyc, desk), strict=True))


READ = _statuses(401, 404, 404, 200, 200, 200, 200)


def _p(suffix: str = "") -> Callable[[dict[str, Any]], str]:
    return lambda w: f"/api/v1/partners/{w['partner'].pk}{suffix}"


def _branch_body(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": "WH-AKOLA",
        "name": "Akola warehouse",
        "branch_type": "WAREHOUSE",
        "address_line1": "MIDC Phase 2",
        "city": "Akola",
        "state_code": "27",
        "pincode": "444104",
    }


def _pdf(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "document_type": "PAN_CARD",
        "file": SimpleUploadedFile("pan.pdf", factories.TINY_PDF, content_type="application/pdf"),
    }


CASES = [
    Case("partner list", "get", lambda w: "/api/v1/partners/", _statuses(401, 200, 200, 200, 200, 200, 200)),
    Case("partner get", "get", _p(), READ),
    Case(
        "partner patch contact",
        "patch",
        _p(),
        _statuses(401, 404, 404, 403, 200, 403, 200),
        body=lambda w: {"contact_name": "Accounts desk"},
    ),
    Case(
        "partner status",
        "post",
        _p("/status"),
        _statuses(401, 404, 404, 403, 403, 403, 403),
        body=lambda w: {"status": "SUSPENDED", "reason": "Cheque bounced"},
    ),
    Case("employees list", "get", _p("/employees/"), READ),
    Case(
        "employee invite",
        "post",
        _p("/employees/"),
        _statuses(401, 404, 404, 403, 201, 403, 403),
        body=lambda w: {"mobile": "+919876500001", "full_name": "Ravi Trader", "role": "TRADER"},
    ),
    Case(
        "employee role change",
        "patch",
        lambda w: f"/api/v1/partners/{w['partner'].pk}/employees/{w['trader'].pk}",
        _statuses(401, 404, 404, 403, 200, 403, 403),
        body=lambda w: {"role": "VIEWER"},
    ),
    Case(
        "employee disable",
        "post",
        lambda w: f"/api/v1/partners/{w['partner'].pk}/employees/{w['trader'].pk}/disable",
        _statuses(401, 404, 404, 403, 200, 403, 403),
    ),
    Case("documents list", "get", _p("/documents/"), READ),
    Case(
        "document upload",
        "post",
        _p("/documents/"),
        _statuses(401, 404, 404, 403, 201, 403, 201),
        body=_pdf,
        multipart=True,
    ),
    Case("branches list", "get", _p("/branches/"), READ),
    Case("branch create", "post", _p("/branches/"), _statuses(401, 404, 404, 403, 201, 403, 201), body=_branch_body),
    Case("branch get", "get", lambda w: f"/api/v1/partners/{w['partner'].pk}/branches/{w['branch'].pk}", READ),
    Case(
        "branch patch",
        "patch",
        lambda w: f"/api/v1/partners/{w['partner'].pk}/branches/{w['branch'].pk}",
        _statuses(401, 404, 404, 403, 200, 403, 200),
        body=lambda w: {"name": "Head office, Akola"},
    ),
    Case("amendments list", "get", _p("/amendments/"), READ),
    Case(
        "amendment request",
        "post",
        _p("/amendments/"),
        _statuses(401, 404, 404, 403, 201, 403, 201),
        body=lambda w: {
            "kind": "ADDRESS",
            "new_values": {
                "address_line1": "Plot 9, New Market Yard",
                "city": "Akola",
                "state_code": "27",
                "pincode": "444002",
            },
            "reason": "Moved office",
        },
    ),
    Case(
        "amendment get",
        "get",
        lambda w: f"/api/v1/partners/{w['partner'].pk}/amendments/{w['amendment'].pk}",
        READ,
    ),
    Case(
        "amendment approve",
        "post",
        lambda w: f"/api/v1/partners/{w['partner'].pk}/amendments/{w['amendment'].pk}/approve",
        _statuses(401, 404, 404, 403, 403, 403, 200),
        body=lambda w: {"note": "Cheque seen"},
    ),
    Case(
        "vehicles list",
        "get",
        lambda w: f"/api/v1/partners/{w['transporter'].pk}/vehicles/",
        READ,
        on_transporter=True,
    ),
    Case(
        "vehicle register",
        "post",
        lambda w: f"/api/v1/partners/{w['transporter'].pk}/vehicles/",
        _statuses(401, 404, 404, 403, 201, 403, 201),
        body=lambda w: {"registration_number": "GJ03AB1234", "vehicle_type": "TRUCK", "capacity_kg": "16000"},
        on_transporter=True,
    ),
    Case(
        "vehicle get",
        "get",
        lambda w: f"/api/v1/partners/{w['transporter'].pk}/vehicles/{w['vehicle'].pk}",
        READ,
        on_transporter=True,
    ),
]


def _transporter(organization: Any) -> Any:
    """An approved lorry-owning transporter (service provider) with one vehicle; built the way an
    approved partner is, then made a transporter (its documents are not what this test is about)."""
    partner = factories.approved_partner(organization)
    type(partner).objects.filter(pk=partner.pk).update(
        entity_class="SERVICE_PROVIDER", service_type="TRANSPORTER", owns_lorries=True
    )
    partner.refresh_from_db()
    return partner


@pytest.fixture
def world(
    organization: Any, partner: Any, owner: Any, viewer: Any, trader: Any, other_partner: Any, kyc_officer: Any,
    desk_manager: Any, other_org_staff: Any,
) -> dict[str, Any]:  # fmt: skip
    transporter = _transporter(organization)
    # The transporter's users are the same kinds of caller as the trading partner's.
    transporter_viewer = factories.member(transporter, "VIEWER")
    vehicle = Vehicle.objects.create(
        partner=transporter, registration_number="GJ01XY9876", vehicle_type="TRUCK", capacity_kg=9000
    )
    amendment = amendment_request(
        actor=owner,
        partner_id=partner.pk,
        kind="CREDIT_LIMIT",
        new_values={"credit_limit": "9000000.00"},
        reason="Season volumes",
    )
    return {
        "partner": partner,
        "transporter": transporter,
        "vehicle": vehicle,
        "branch": partner.branches.get(code="HO"),
        "amendment": amendment,
        "trader": trader,
        "actors": {
            "anonymous": None,
            "other_org_staff": other_org_staff,
            "other_partner_owner": other_partner.owner,
            "viewer": viewer,
            "owner": owner,
            "kyc_officer": kyc_officer,
            "desk_manager": desk_manager,
        },
        "transporter_actors": {"viewer": transporter_viewer, "owner": transporter.owner},
    }


def _snapshot() -> dict[str, int]:
    """Row counts of every table a partner endpoint could write (history tables included)."""
    counted = list(django_apps.get_app_config("partners").get_models())
    counted += list(django_apps.get_app_config("accounts").get_models())
    counts = {m._meta.label: m.objects.count() for m in counted}
    counts["outbox"] = OutboxEvent.objects.count()
    return counts


def _fingerprint(world: dict[str, Any]) -> tuple[Any, ...]:
    """What a refused write might change in place (updates leave counts alone)."""
    partner = type(world["partner"]).objects.get(pk=world["partner"].pk)
    branch = type(world["branch"]).objects.get(pk=world["branch"].pk)
    membership = world["trader"].partner_membership.__class__.objects.get(user=world["trader"])
    amendment = PartnerAmendment.objects.get(pk=world["amendment"].pk)
    return (
        partner.status,
        partner.contact_name,
        partner.credit_limit,
        branch.name,
        membership.role,
        membership.is_active,
        amendment.status,
    )


def _client(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    return client


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_permission_matrix(case: Case, actor: str, world: dict[str, Any]) -> None:
    user = world["actors"][actor]
    if case.on_transporter:
        user = world["transporter_actors"].get(actor, user)
    url = case.path(world)
    before, fingerprint = _snapshot(), _fingerprint(world)
    events_before = OutboxEvent.objects.count()

    request = getattr(_client(user), case.method)
    body = case.body(world)
    response = request(url, body, format="multipart" if case.multipart else "json")

    expected = case.expected[actor]
    assert response.status_code == expected, (case.name, actor, response.content[:300])
    if expected >= 400:
        assert set(response.json()) >= {"type", "code", "detail", "errors", "request_id"}
        assert _snapshot() == before
        assert _fingerprint(world) == fingerprint
    elif case.method != "get":
        assert OutboxEvent.objects.count() > events_before, "an allowed write leaves an event"


def test_an_applicant_without_a_partner_sees_no_partner_data(world: dict[str, Any]) -> None:
    applicant = ExternalUserFactory(organization=world["partner"].organization)
    client = _client(applicant)
    before = _snapshot()

    assert client.get("/api/v1/partners/").json()["results"] == []
    for case in CASES[1:]:  # every operation on a partner (the list is empty, above)
        response = getattr(client, case.method)(
            case.path(world), case.body(world), format="multipart" if case.multipart else "json"
        )
        assert response.status_code == 404, (case.name, response.content[:200])
    assert _snapshot() == before

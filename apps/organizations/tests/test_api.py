"""The organizations API: who may do what on every endpoint (and that refusals change nothing),
field errors, masked account numbers, constant query counts on lists."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.events.models import OutboxEvent
from apps.organizations.models import BankAccount, DocumentSeries, FinancialYear, GstRegistration, Organization
from apps.organizations.services.bank_accounts import bank_account_create
from apps.organizations.services.document_series import document_series_create
from apps.organizations.services.financial_years import financial_year_create
from apps.organizations.services.gst_registrations import gst_registration_create
from apps.organizations.tests.conftest import GSTIN_GJ, GSTIN_KA, GSTIN_MH, with_role

pytestmark = pytest.mark.django_db

BASE = "/api/v1/organizations/"
RAW_ACCOUNT = "38201234567"
SECOND_ACCOUNT = "50200012345678"


@dataclass
class World:
    organization: Organization
    gst: GstRegistration  # primary
    gst_other: GstRegistration
    bank: BankAccount  # default
    year: FinancialYear  # 2026-27, active
    next_year: FinancialYear  # 2027-28
    series: DocumentSeries  # TRADE in 2026-27


@pytest.fixture
def world(organization) -> World:
    org = organization.id
    return World(
        organization=organization,
        gst=gst_registration_create(organization_id=org, gstin=GSTIN_MH),
        gst_other=gst_registration_create(organization_id=org, gstin=GSTIN_GJ),
        bank=bank_account_create(
            organization_id=org,
            holder_name="Trading House Private Limited",
            bank_name="State Bank of India",
            account_number=RAW_ACCOUNT,
            ifsc="SBIN0000452",
        ),
        year=(year := financial_year_create(organization_id=org, start_date=datetime.date(2026, 4, 1))),
        next_year=financial_year_create(organization_id=org, start_date=datetime.date(2027, 4, 1)),
        series=document_series_create(organization_id=org, financial_year_id=year.id, doc_type="TRADE"),
    )


# name -> (method, path under /organizations/{id}/, body, success status, event types emitted)
OPERATIONS = {
    "organization-retrieve": ("get", "", None, 200, []),
    "organization-update": ("patch", "", {"city": "Rajkot"}, 200, ["organizations.organization.updated"]),
    "gst-list": ("get", "gst-registrations/", None, 200, []),
    "gst-create": (
        "post",
        "gst-registrations/",
        {"gstin": GSTIN_KA},
        201,
        ["organizations.gst_registration.created"],
    ),
    "gst-retrieve": ("get", "gst-registrations/{gst}/", None, 200, []),
    "gst-update": (
        "patch",
        "gst-registrations/{gst_other}/",
        {"is_primary": True},
        200,
        ["organizations.gst_registration.updated", "organizations.gst_registration.updated"],
    ),
    "bank-list": ("get", "bank-accounts/", None, 200, []),
    "bank-create": (
        "post",
        "bank-accounts/",
        {
            "holder_name": "Trading House",
            "bank_name": "HDFC Bank",
            "account_number": SECOND_ACCOUNT,
            "ifsc": "HDFC0001234",
        },
        201,
        ["organizations.bank_account.created"],
    ),
    "bank-retrieve": ("get", "bank-accounts/{bank}/", None, 200, []),
    "bank-update": (
        "patch",
        "bank-accounts/{bank}/",
        {"branch": "Rajkot Main"},
        200,
        ["organizations.bank_account.updated"],
    ),
    "fy-list": ("get", "financial-years/", None, 200, []),
    "fy-create": (
        "post",
        "financial-years/",
        {"start_date": "2028-04-01"},
        201,
        ["organizations.financial_year.created"],
    ),
    "fy-retrieve": ("get", "financial-years/{year}/", None, 200, []),
    "fy-update": (
        "patch",
        "financial-years/{next_year}/",
        {"label": "FY2027-28"},
        200,
        ["organizations.financial_year.updated"],
    ),
    "fy-activate": (
        "post",
        "financial-years/{next_year}/activate",
        None,
        200,
        ["organizations.financial_year.activated"],
    ),
    "series-list": ("get", "document-series/", None, 200, []),
    "series-create": (
        "post",
        "document-series/",
        {"financial_year": "{year}", "doc_type": "INVOICE"},
        201,
        ["organizations.document_series.created"],
    ),
    "series-retrieve": ("get", "document-series/{series}/", None, 200, []),
    "series-update": (
        "patch",
        "document-series/{series}/",
        {"prefix": "TD"},
        200,
        ["organizations.document_series.updated"],
    ),
}
READS = [name for name, op in OPERATIONS.items() if op[0] == "get"]
WRITES = [name for name, op in OPERATIONS.items() if op[0] != "get"]


def _ids(world: World) -> dict[str, str]:
    return {
        "gst": str(world.gst.id),
        "gst_other": str(world.gst_other.id),
        "bank": str(world.bank.id),
        "year": str(world.year.id),
        "next_year": str(world.next_year.id),
        "series": str(world.series.id),
    }


def call(client, operation: str, world: World, organization_id=None):
    method, suffix, body, _, _ = OPERATIONS[operation]
    ids = _ids(world)
    path = f"{BASE}{organization_id or world.organization.id}/{suffix.format(**ids)}"
    if body is not None:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    return getattr(client, method)(path, body, format="json")


def snapshot() -> tuple:
    """Every row of the organizations app's tables, and the outbox."""
    return (
        list(Organization.objects.order_by("id").values()),
        *(
            list(model.objects.order_by("id").values())
            for model in (GstRegistration, BankAccount, FinancialYear, DocumentSeries)
        ),
        OutboxEvent.objects.count(),
    )


# --- the permission matrix ------------------------------------------------------------------------


def test_anonymous_callers_get_401_everywhere_and_change_nothing(api_client, world):
    before = snapshot()

    statuses = [api_client.get(BASE).status_code] + [call(api_client, op, world).status_code for op in OPERATIONS]

    assert statuses == [401] * (1 + len(OPERATIONS))
    assert snapshot() == before


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_another_organizations_admin_gets_404_and_changes_nothing(authenticate, world, other_organization, operation):
    outsider = with_role(UserFactory(organization=other_organization), Role.ORGANIZATION_ADMIN)
    before = snapshot()

    response = call(authenticate(outsider), operation, world)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert snapshot() == before


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_staff_without_the_capability_get_403_and_change_nothing(authenticate, world, operation):
    staff = UserFactory(organization=world.organization)  # no role
    before = snapshot()

    response = call(authenticate(staff), operation, world)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert snapshot() == before


@pytest.mark.parametrize("operation", WRITES)
def test_view_only_staff_roles_may_not_write(authenticate, world, operation):
    desk_manager = with_role(UserFactory(organization=world.organization), Role.DESK_MANAGER)
    before = snapshot()

    response = call(authenticate(desk_manager), operation, world)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert snapshot() == before


@pytest.mark.parametrize("operation", READS)
def test_view_only_staff_roles_may_read(authenticate, world, operation):
    desk_manager = with_role(UserFactory(organization=world.organization), Role.DESK_MANAGER)

    assert call(authenticate(desk_manager), operation, world).status_code == 200


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_partner_users_of_the_organization_get_404_and_change_nothing(authenticate, world, operation):
    partner_user = with_role(ExternalUserFactory(organization=world.organization), Role.PARTNER_OWNER)
    before = snapshot()

    response = call(authenticate(partner_user), operation, world)

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_the_organization_admin_may_do_everything_and_each_write_emits(authenticate, org_admin, world, operation):
    events_before = set(OutboxEvent.objects.values_list("id", flat=True))

    response = call(authenticate(org_admin), operation, world)

    assert response.status_code == OPERATIONS[operation][3], response.content
    emitted = OutboxEvent.objects.exclude(id__in=events_before).order_by("position")
    assert [e.type for e in emitted] == OPERATIONS[operation][4]
    assert all(e.actor_id == org_admin.id for e in emitted)
    assert all(e.organization_id == world.organization.id for e in emitted)


@pytest.mark.parametrize("superuser", [True, False], ids=["superuser", "platform-admin-role"])
@pytest.mark.parametrize(
    "operation", ["organization-update", "gst-create", "bank-retrieve", "fy-activate", "series-list"]
)
def test_platform_admins_may_manage_any_organization(authenticate, world, operation, superuser):
    admin = SuperAdminFactory(is_superuser=superuser)
    admin.groups.add(Group.objects.get(name=Role.PLATFORM_ADMIN))

    assert call(authenticate(admin), operation, world).status_code == OPERATIONS[operation][3]


# --- listing organizations --------------------------------------------------------------------------


def test_staff_list_only_their_own_organization(authenticate, org_admin, organization, other_organization):
    response = authenticate(org_admin).get(BASE)

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [organization.code]


def test_platform_admins_list_every_organization_newest_first(authenticate, organization, other_organization):
    response = authenticate(SuperAdminFactory()).get(BASE)

    assert [row["code"] for row in response.json()["results"]] == [other_organization.code, organization.code]


def test_partner_users_may_not_list_organizations(authenticate, organization):
    partner_user = with_role(ExternalUserFactory(organization=organization), Role.PARTNER_OWNER)

    response = authenticate(partner_user).get(BASE)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_the_profile_reads_back_what_was_patched(authenticate, org_admin, organization):
    response = authenticate(org_admin).patch(
        f"{BASE}{organization.id}/",
        {"cin": "u17111gj2010ptc062345", "state": "GJ", "pincode": "360003", "contact_phone": "+91 281 234 5678"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["cin"], body["state"], body["pincode"], body["contact_phone"], body["pan"]) == (
        "U17111GJ2010PTC062345",
        "GJ",
        "360003",
        "+912812345678",
        "AABCT1234F",
    )


# --- field errors -----------------------------------------------------------------------------------


def _gst_post(client, organization, gstin):
    return client.post(f"{BASE}{organization.id}/gst-registrations/", {"gstin": gstin}, format="json")


@pytest.mark.parametrize(
    ("gstin", "reason"),
    [
        ("27AABCT1234F1ZA", "invalid_gstin_check_digit"),
        ("27AABCT1234F1Z", "invalid_gstin"),
        ("27AAPFU0939F1ZV", "gstin_pan_mismatch"),
    ],
)
def test_an_invalid_gstin_is_a_400_on_the_gstin_field_and_adds_nothing(
    authenticate, org_admin, organization, gstin, reason
):
    before = snapshot()

    response = _gst_post(authenticate(org_admin), organization, gstin)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [("gstin", reason)]
    assert snapshot() == before


def test_a_gstin_with_an_unknown_state_code_is_a_400_on_the_gstin_field(authenticate, org_admin, organization):
    from apps.organizations.validators import gstin_check_char

    unknown_state = "98AABCT1234F1Z" + gstin_check_char("98AABCT1234F1Z")

    body = _gst_post(authenticate(org_admin), organization, unknown_state).json()

    assert [(e["attr"], e["code"]) for e in body["errors"]] == [("gstin", "unknown_gst_state_code")]


def test_missing_fields_are_serializer_field_errors(authenticate, org_admin, organization):
    response = authenticate(org_admin).post(f"{BASE}{organization.id}/bank-accounts/", {}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    assert sorted(e["attr"] for e in response.json()["errors"]) == [
        "account_number",
        "bank_name",
        "holder_name",
        "ifsc",
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [("account_number", "12345678", "invalid_account_number"), ("ifsc", "SBIN1000452", "invalid_ifsc")],
)
def test_invalid_bank_details_are_field_errors(authenticate, org_admin, organization, field, value, reason):
    data = {"holder_name": "H", "bank_name": "B", "account_number": RAW_ACCOUNT, "ifsc": "SBIN0000452", field: value}

    response = authenticate(org_admin).post(f"{BASE}{organization.id}/bank-accounts/", data, format="json")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(field, reason)]
    assert not BankAccount.objects.exists()


def test_an_overlapping_financial_year_is_a_400_on_start_date(authenticate, org_admin, world):
    response = authenticate(org_admin).post(
        f"{BASE}{world.organization.id}/financial-years/", {"start_date": "2026-10-01"}, format="json"
    )

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("start_date", "financial_year_overlaps")]


def test_the_primary_registration_cannot_be_deactivated_while_others_are_active(authenticate, org_admin, world):
    before = snapshot()

    response = authenticate(org_admin).patch(
        f"{BASE}{world.organization.id}/gst-registrations/{world.gst.id}/", {"is_active": False}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (409, "primary_gst_registration_required")
    assert snapshot() == before


def test_a_series_of_another_organizations_year_is_refused(authenticate, org_admin, organization, other_organization):
    foreign_year = financial_year_create(organization_id=other_organization.id, start_date=datetime.date(2026, 4, 1))

    response = authenticate(org_admin).post(
        f"{BASE}{organization.id}/document-series/",
        {"financial_year": str(foreign_year.id), "doc_type": "TRADE"},
        format="json",
    )

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("financial_year", "does_not_exist")]
    assert not DocumentSeries.objects.exists()


def test_a_child_of_another_organization_is_not_found_under_ones_own(
    authenticate, org_admin, organization, other_organization
):
    foreign = gst_registration_create(organization_id=other_organization.id, gstin=GSTIN_MH)

    response = authenticate(org_admin).get(f"{BASE}{organization.id}/gst-registrations/{foreign.id}/")

    assert response.status_code == 404


def test_document_series_filters_are_validated_and_applied(authenticate, org_admin, world):
    client = authenticate(org_admin)
    url = f"{BASE}{world.organization.id}/document-series/"

    by_type = client.get(url, {"doc_type": "TRADE"}).json()["results"]
    by_other_type = client.get(url, {"doc_type": "INVOICE"}).json()["results"]
    bad = client.get(url, {"doc_type": "NOPE", "financial_year": "not-a-uuid"})

    assert [(s["prefix"], s["financial_year_label"], s["last_number"]) for s in by_type] == [("TR", "2026-27", None)]
    assert by_other_type == []
    assert bad.status_code == 400
    assert sorted(e["attr"] for e in bad.json()["errors"]) == ["doc_type", "financial_year"]


# --- masked account numbers -------------------------------------------------------------------------


def test_account_numbers_are_masked_in_every_answer(authenticate, org_admin, world):
    client = authenticate(org_admin)
    url = f"{BASE}{world.organization.id}/bank-accounts/"

    answers = [
        client.get(url),
        client.get(f"{url}{world.bank.id}/"),
        client.patch(f"{url}{world.bank.id}/", {"branch": "Rajkot"}, format="json"),
        client.post(
            url,
            {"holder_name": "T", "bank_name": "HDFC Bank", "account_number": SECOND_ACCOUNT, "ifsc": "HDFC0001234"},
            format="json",
        ),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 201]
    assert [row["account_number_masked"] for row in answers[0].json()["results"]] == ["***4567"]
    assert answers[1].json()["account_number_masked"] == "***4567"
    assert answers[3].json()["account_number_masked"] == "***5678"
    for answer in answers:
        assert "account_number" not in (answer.json().get("results") or [answer.json()])[0]
        assert RAW_ACCOUNT.encode() not in answer.content
        assert SECOND_ACCOUNT.encode() not in answer.content


def test_bank_account_events_carry_only_the_last_four_digits(authenticate, org_admin, organization):
    authenticate(org_admin).post(
        f"{BASE}{organization.id}/bank-accounts/",
        {"holder_name": "T", "bank_name": "SBI", "account_number": RAW_ACCOUNT, "ifsc": "SBIN0000452"},
        format="json",
    )

    event = OutboxEvent.objects.get(type="organizations.bank_account.created")
    assert event.payload == {
        "holder_name": "T",
        "bank_name": "SBI",
        "ifsc": "SBIN0000452",
        "account_number_last4": "4567",
        "is_default": True,
        "is_active": True,
    }


# --- query counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["gst-list", "bank-list", "fy-list", "series-list"])
def test_list_endpoints_issue_a_constant_number_of_queries(authenticate, org_admin, world, operation):
    client = authenticate(org_admin)
    call(client, operation, world)  # warm up (permission caches)

    with CaptureQueriesContext(connection) as few:
        call(client, operation, world)
    gst_registration_create(organization_id=world.organization.id, gstin=GSTIN_KA)
    bank_account_create(
        organization_id=world.organization.id,
        holder_name="H",
        bank_name="B",
        account_number=SECOND_ACCOUNT,
        ifsc="HDFC0001234",
    )
    financial_year_create(organization_id=world.organization.id, start_date=datetime.date(2028, 4, 1))
    for doc_type in ("CONTRACT", "INVOICE"):
        document_series_create(
            organization_id=world.organization.id, financial_year_id=world.year.id, doc_type=doc_type
        )
    with CaptureQueriesContext(connection) as more:
        response = call(client, operation, world)

    assert len(response.json()["results"]) >= 2
    assert len(more) == len(few)

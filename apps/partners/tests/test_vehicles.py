"""A transporter's vehicles (SPEC section 6): the API, its permission matrix, registration numbers
unique among active vehicles (also under a race) and the papers' validity."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.tests.factories import ExternalUserFactory
from apps.events.models import OutboxEvent
from apps.organizations.validators import gstin_check_char
from apps.partners import services as onboarding
from apps.partners.errors import VehicleAlreadyRegistered
from apps.partners.models import (
    BusinessPartner,
    BusinessType,
    DocumentType,
    EntityClass,
    ServiceType,
    Vehicle,
)
from apps.partners.services import vehicles as services
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db

VEHICLE_EVENTS = Q(type__startswith="partners.vehicle.")
TRANSPORTER_DOCUMENTS = [
    DocumentType.PAN_CARD,
    DocumentType.GST_CERTIFICATE,
    DocumentType.RC,
    DocumentType.INSURANCE,
    DocumentType.FITNESS,
    DocumentType.PERMIT,
]


def approved_transporter(organization: Any, *, pan: str, kyc_officer: Any, approver: Any) -> BusinessPartner:
    """A lorry-owning transporter (service provider) approved through the onboarding services,
    with its owner as `.owner`."""
    base = "24" + pan + "1Z"
    applicant = ExternalUserFactory(organization=organization)
    application = factories.application(
        applicant,
        entity_class=EntityClass.SERVICE_PROVIDER,
        business_type=BusinessType.PARTNERSHIP,
        service_type=ServiceType.TRANSPORTER,
        owns_lorries=True,
        has_own_transport=True,
        legal_name="Saurashtra Roadways",
        trade_name="Saurashtra Roadways",
        pan=pan,
        gstin=base + gstin_check_char(base),
        city="Rajkot",
        state_code="24",
        pincode="360001",
    )
    assert onboarding.missing_documents(application) == [str(d) for d in TRANSPORTER_DOCUMENTS]
    for document_type in TRANSPORTER_DOCUMENTS:
        factories.document(application, document_type)
    onboarding.application_submit(applicant=applicant, application_id=application.id)
    for document in application.documents.order_by("document_type"):
        onboarding.document_verify(actor=kyc_officer, document_id=document.id)
    approval = onboarding.application_approve(actor=approver, application_id=application.id, credit_limit=Decimal(0))
    transporter = approval.partner
    transporter.owner = applicant  # type: ignore[attr-defined]
    return transporter


@pytest.fixture
def transporter(organization: Any, kyc_officer: Any, director: Any) -> BusinessPartner:
    return approved_transporter(organization, pan="AAHFS4321Q", kyc_officer=kyc_officer, approver=director)


@pytest.fixture
def transporter_owner(transporter: Any) -> Any:
    return transporter.owner


@pytest.fixture
def transporter_viewer(transporter: Any) -> Any:
    return factories.member(transporter, "VIEWER")


@pytest.fixture
def foreign_transporter(other_organization: Any, other_org_staff: Any) -> BusinessPartner:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory

    officer = UserFactory(organization=other_organization)
    officer.groups.add(Group.objects.get(name=Role.KYC_OFFICER))
    return approved_transporter(other_organization, pan="AAHFK9876M", kyc_officer=officer, approver=other_org_staff)


def today() -> Any:
    return timezone.localdate()


def vehicle_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "registration_number": "GJ03AB1234",
        "vehicle_type": "TRUCK",
        "capacity_kg": "16000.000",
        "insurance_valid_until": (today() + timedelta(days=200)).isoformat(),
        "fitness_valid_until": (today() + timedelta(days=100)).isoformat(),
    }
    data.update(overrides)
    return data


def register(partner: Any, actor: Any, **overrides: Any) -> Vehicle:
    data = vehicle_data(**overrides)
    return services.vehicle_create(
        actor=actor,
        partner_id=partner.id,
        registration_number=data["registration_number"],
        vehicle_type=data["vehicle_type"],
        capacity_kg=Decimal(data["capacity_kg"]),
    )


def url(partner: Any, vehicle: Any = None, action: str = "") -> str:
    base = f"/api/v1/partners/{partner.id}/vehicles/"
    if vehicle is None:
        return base
    return f"{base}{vehicle.id}" + (f"/{action}" if action else "")


def snapshot() -> tuple[list[dict[str, Any]], int]:
    """Every vehicle row and the number of vehicle events: what a refusal must not change."""
    return list(Vehicle.objects.order_by("id").values()), OutboxEvent.objects.filter(VEHICLE_EVENTS).count()


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def field_error(response: Any) -> tuple[int, str, str, str]:
    body = response.json()
    return response.status_code, body["code"], body["errors"][0]["attr"], body["errors"][0]["code"]


def events_of(event_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=event_type).order_by("position"))


@pytest.fixture
def lorry(transporter: Any, transporter_owner: Any) -> Vehicle:
    return register(transporter, transporter_owner)


# --- create -----------------------------------------------------------------------------------------


def test_the_transporters_owner_registers_a_lorry_with_a_normalised_number(
    authenticate: Any, transporter: Any, transporter_owner: Any
) -> None:
    data = vehicle_data(registration_number=" gj 03-ab 1234 ")

    response = authenticate(transporter_owner).post(url(transporter), data, format="json")

    assert response.status_code == 201
    vehicle = Vehicle.objects.get(partner=transporter)
    body = response.json()
    assert body == {
        "id": str(vehicle.id),
        "partner_id": str(transporter.id),
        "registration_number": "GJ03AB1234",
        "vehicle_type": "TRUCK",
        "capacity_kg": "16000.000",
        "insurance_valid_until": data["insurance_valid_until"],
        "fitness_valid_until": data["fitness_valid_until"],
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert vehicle.capacity_kg == Decimal("16000.000")
    [event] = events_of("partners.vehicle.created")
    assert (event.aggregate_type, event.aggregate_id) == ("partners.vehicle", str(vehicle.id))
    assert (event.organization_id, event.partner_id, event.actor_id) == (
        transporter.organization_id,
        transporter.id,
        transporter_owner.id,
    )
    assert event.payload == {
        "vehicle_id": str(vehicle.id),
        "partner_id": str(transporter.id),
        "registration_number": "GJ03AB1234",
        "vehicle_type": "TRUCK",
        "capacity_kg": "16000.000",
        "insurance_valid_until": data["insurance_valid_until"],
        "fitness_valid_until": data["fitness_valid_until"],
    }


def test_a_one_letter_series_and_papers_valid_today_are_accepted(
    authenticate: Any, transporter: Any, transporter_owner: Any
) -> None:
    data = vehicle_data(
        registration_number="MH12A1234",
        insurance_valid_until=today().isoformat(),
        fitness_valid_until=None,
    )

    response = authenticate(transporter_owner).post(url(transporter), data, format="json")

    assert response.status_code == 201
    assert (response.json()["registration_number"], response.json()["fitness_valid_until"]) == ("MH12A1234", None)


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_register_vehicles(
    request: Any, authenticate: Any, transporter: Any, staff: str
) -> None:
    actor = request.getfixturevalue(staff)

    response = authenticate(actor).post(url(transporter), vehicle_data(), format="json")

    assert response.status_code == 201
    assert Vehicle.objects.filter(partner=transporter, is_active=True).count() == 1
    assert events_of("partners.vehicle.created")[0].actor_id == actor.id


def test_registering_is_refused_to_everyone_else_and_changes_nothing(
    request: Any, authenticate: Any, api_client: Any, transporter: Any, transporter_viewer: Any
) -> None:
    before = snapshot()
    assert api_client.post(url(transporter), vehicle_data(), format="json").status_code == 401
    cases = {
        "other_org_staff": (404, "partner_not_found"),
        "other_partner": (404, "partner_not_found"),
        "foreign_partner": (404, "partner_not_found"),
        "transporter_viewer": (403, "permission_denied"),
        "kyc_officer": (403, "permission_denied"),
        "risk_officer": (403, "permission_denied"),
    }
    for name, expected in cases.items():
        user = request.getfixturevalue(name)
        user = getattr(user, "owner", user)  # other partners: their owners

        response = authenticate(user).post(url(transporter), vehicle_data(), format="json")

        assert error(response) == expected, name
        assert snapshot() == before, name


@pytest.mark.parametrize("actor", ["owner", "desk_manager"])
def test_a_partner_that_is_not_a_transporter_has_no_vehicles(
    request: Any, authenticate: Any, partner: Any, actor: str
) -> None:
    before = snapshot()
    client = authenticate(request.getfixturevalue(actor))

    response = client.post(url(partner), vehicle_data(), format="json")

    assert error(response) == (409, "not_a_transporter")
    assert snapshot() == before
    assert client.get(url(partner)).json()["results"] == []


@pytest.mark.parametrize(
    "number", ["GJ3AB1234", "GJ03ABC1234", "GJ03AB123", "1203AB1234", "GJ03AB12345", "GJ.03.AB.1234"]
)
def test_a_malformed_registration_number_is_refused(
    authenticate: Any, transporter: Any, transporter_owner: Any, number: str
) -> None:
    before = snapshot()

    response = authenticate(transporter_owner).post(
        url(transporter), vehicle_data(registration_number=number), format="json"
    )

    assert field_error(response) == (
        400,
        "invalid_registration_number",
        "registration_number",
        "invalid_registration_number",
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "attr", "code"),
    [
        ({"capacity_kg": "0"}, "capacity_kg", "not_positive"),
        ({"capacity_kg": "-1"}, "capacity_kg", "not_positive"),
        ({"insurance_valid_until": "2020-01-31"}, "insurance_valid_until", "already_expired"),
        ({"fitness_valid_until": "2020-01-31"}, "fitness_valid_until", "already_expired"),
        ({"vehicle_type": "BICYCLE"}, "vehicle_type", "invalid_choice"),
    ],
)
def test_bad_capacities_types_and_expired_papers_are_refused(
    authenticate: Any, transporter: Any, transporter_owner: Any, overrides: dict[str, Any], attr: str, code: str
) -> None:
    before = snapshot()

    response = authenticate(transporter_owner).post(url(transporter), vehicle_data(**overrides), format="json")

    assert field_error(response) == (400, "validation_failed", attr, code)
    assert snapshot() == before


def test_an_active_registration_number_cannot_be_registered_again_anywhere(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle, foreign_transporter: Any
) -> None:
    before = snapshot()

    same_partner = authenticate(transporter_owner).post(
        url(transporter), vehicle_data(registration_number="gj-03-ab-1234"), format="json"
    )
    other_organization = authenticate(foreign_transporter.owner).post(
        url(foreign_transporter), vehicle_data(), format="json"
    )

    assert error(same_partner) == (409, "vehicle_already_registered")
    assert error(other_organization) == (409, "vehicle_already_registered")
    assert snapshot() == before


def test_a_deactivated_vehicles_number_may_be_registered_again(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle, foreign_transporter: Any
) -> None:
    services.vehicle_deactivate(actor=transporter_owner, partner_id=transporter.id, vehicle_id=lorry.id)

    response = authenticate(foreign_transporter.owner).post(url(foreign_transporter), vehicle_data(), format="json")

    assert response.status_code == 201
    assert list(Vehicle.objects.filter(registration_number="GJ03AB1234").values_list("partner_id", "is_active")) in (
        [(transporter.id, False), (foreign_transporter.id, True)],
        [(foreign_transporter.id, True), (transporter.id, False)],
    )


@pytest.mark.django_db(transaction=True)
def test_two_transporters_registering_one_number_at_once_get_one_vehicle(
    transporter: Any, foreign_transporter: Any, run_concurrently: Any
) -> None:
    registrants = iter([transporter, foreign_transporter])
    lock = threading.Lock()

    def register_lorry() -> Any:
        with lock:
            partner = next(registrants)
        return register(partner, partner.owner).partner_id

    results = run_concurrently(register_lorry, times=2)

    outcomes = sorted(type(r.error).__name__ if r.error else "registered" for r in results)
    assert outcomes == ["VehicleAlreadyRegistered", "registered"]
    assert all(r.error is None or isinstance(r.error, VehicleAlreadyRegistered) for r in results)
    [winner] = [r.value for r in results if r.error is None]
    assert list(Vehicle.objects.values_list("partner_id", "is_active")) == [(winner, True)]
    assert OutboxEvent.objects.filter(type="partners.vehicle.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_registration_that_loses_the_race_at_the_unique_index_is_answered_409(
    transporter: Any, foreign_transporter: Any
) -> None:
    """The existence check passes while the other registration is uncommitted; the partial unique
    index then decides, and its violation is the same 409, not an integrity error."""
    inserted, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def hold_an_uncommitted_registration() -> None:
        try:
            with transaction.atomic():
                Vehicle.objects.create(
                    partner=foreign_transporter,
                    registration_number="GJ03AB1234",
                    vehicle_type="TRUCK",
                    capacity_kg=Decimal("1000"),
                )
                inserted.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def contend() -> None:
        try:
            outcome["value"] = register(transporter, transporter.owner)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_an_uncommitted_registration)
    holder.start()
    assert inserted.wait(timeout=10)
    contender = threading.Thread(target=contend)
    contender.start()
    with connection.cursor() as cursor:  # wait until the contender waits on the uncommitted row
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the contending registration never waited on the uncommitted one")
    release.set()
    holder.join(timeout=30)
    contender.join(timeout=30)

    assert isinstance(outcome.get("error"), VehicleAlreadyRegistered)
    assert list(Vehicle.objects.values_list("partner_id", flat=True)) == [foreign_transporter.id]
    assert OutboxEvent.objects.filter(type="partners.vehicle.created").count() == 0


# --- update ---------------------------------------------------------------------------------------


def test_owner_renews_the_papers_and_the_event_lists_the_changed_fields(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    renewed = today() + timedelta(days=365)

    response = authenticate(transporter_owner).patch(
        url(transporter, lorry),
        {"insurance_valid_until": renewed.isoformat(), "capacity_kg": "18000.5", "vehicle_type": "TRUCK"},
        format="json",
    )

    assert response.status_code == 200
    lorry.refresh_from_db()
    assert (lorry.insurance_valid_until, lorry.capacity_kg, lorry.vehicle_type) == (
        renewed,
        Decimal("18000.500"),
        "TRUCK",
    )
    [event] = events_of("partners.vehicle.updated")
    assert (event.actor_id, event.partner_id, event.organization_id) == (
        transporter_owner.id,
        transporter.id,
        transporter.organization_id,
    )
    assert event.payload == {
        "vehicle_id": str(lorry.id),
        "partner_id": str(transporter.id),
        "registration_number": "GJ03AB1234",
        "fields": ["capacity_kg", "insurance_valid_until"],
    }


def test_the_registration_number_is_not_changed_by_a_patch(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    response = authenticate(transporter_owner).patch(
        url(transporter, lorry), {"registration_number": "GJ03AB9999"}, format="json"
    )

    assert (response.status_code, response.json()["registration_number"]) == (200, "GJ03AB1234")
    assert events_of("partners.vehicle.updated") == []


def test_papers_expired_already_cannot_be_recorded_later_either(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    before = snapshot()
    yesterday = (today() - timedelta(days=1)).isoformat()

    response = authenticate(transporter_owner).patch(
        url(transporter, lorry), {"fitness_valid_until": yesterday}, format="json"
    )

    assert field_error(response) == (400, "validation_failed", "fitness_valid_until", "already_expired")
    assert snapshot() == before


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_update_vehicles(
    request: Any, authenticate: Any, transporter: Any, lorry: Vehicle, staff: str
) -> None:
    response = authenticate(request.getfixturevalue(staff)).patch(
        url(transporter, lorry), {"vehicle_type": "TRAILER"}, format="json"
    )

    assert response.status_code == 200
    lorry.refresh_from_db()
    assert lorry.vehicle_type == "TRAILER"


def test_updating_is_refused_to_everyone_else_and_changes_nothing(
    request: Any, authenticate: Any, api_client: Any, transporter: Any, lorry: Vehicle, transporter_viewer: Any
) -> None:
    before = snapshot()
    change = {"vehicle_type": "TRAILER"}
    assert api_client.patch(url(transporter, lorry), change, format="json").status_code == 401
    cases = {
        "other_org_staff": (404, "partner_not_found"),
        "other_partner": (404, "partner_not_found"),
        "transporter_viewer": (403, "permission_denied"),
        "kyc_officer": (403, "permission_denied"),
    }
    for name, expected in cases.items():
        user = request.getfixturevalue(name)
        user = getattr(user, "owner", user)

        response = authenticate(user).patch(url(transporter, lorry), change, format="json")

        assert error(response) == expected, name
        assert snapshot() == before, name


def test_a_vehicle_of_another_partner_is_not_found_under_this_partner(
    authenticate: Any, transporter: Any, transporter_owner: Any, foreign_transporter: Any
) -> None:
    theirs = register(foreign_transporter, foreign_transporter.owner, registration_number="MH12XY0001")
    second = approved_transporter(
        transporter.organization,
        pan="AAHFR1111Z",
        kyc_officer=_kyc_officer_of(transporter),
        approver=_director_of(transporter),
    )
    ours_elsewhere = register(second, second.owner, registration_number="MH12XY0002")
    before = snapshot()
    client = authenticate(transporter_owner)

    for vehicle in (theirs, ours_elsewhere):
        assert error(client.get(url(transporter, vehicle))) == (404, "vehicle_not_found")
        assert error(client.patch(url(transporter, vehicle), {"vehicle_type": "TEMPO"}, format="json")) == (
            404,
            "vehicle_not_found",
        )
        assert error(client.post(url(transporter, vehicle, "deactivate"))) == (404, "vehicle_not_found")
    assert snapshot() == before


def _kyc_officer_of(partner: Any) -> Any:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory

    user = UserFactory(organization_id=partner.organization_id)
    user.groups.add(Group.objects.get(name=Role.KYC_OFFICER))
    return user


def _director_of(partner: Any) -> Any:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory

    user = UserFactory(organization_id=partner.organization_id)
    user.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    return user


# --- deactivation ---------------------------------------------------------------------------------


def test_owner_takes_a_lorry_out_of_service(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    response = authenticate(transporter_owner).post(url(transporter, lorry, "deactivate"))

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    lorry.refresh_from_db()
    assert lorry.is_active is False
    [event] = events_of("partners.vehicle.deactivated")
    assert (event.aggregate_id, event.actor_id, event.partner_id) == (
        str(lorry.id),
        transporter_owner.id,
        transporter.id,
    )
    assert event.payload == {
        "vehicle_id": str(lorry.id),
        "partner_id": str(transporter.id),
        "registration_number": "GJ03AB1234",
    }


def test_a_deactivated_vehicle_cannot_be_changed_or_deactivated_again(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    client = authenticate(transporter_owner)
    client.post(url(transporter, lorry, "deactivate"))
    before = snapshot()

    assert error(client.post(url(transporter, lorry, "deactivate"))) == (409, "vehicle_inactive")
    assert error(client.patch(url(transporter, lorry), {"vehicle_type": "TEMPO"}, format="json")) == (
        409,
        "vehicle_inactive",
    )
    assert snapshot() == before


@pytest.mark.parametrize("staff", ["desk_manager", "director"])
def test_staff_with_the_change_capability_deactivate_vehicles(
    request: Any, authenticate: Any, transporter: Any, lorry: Vehicle, staff: str
) -> None:
    response = authenticate(request.getfixturevalue(staff)).post(url(transporter, lorry, "deactivate"))

    assert response.status_code == 200
    lorry.refresh_from_db()
    assert lorry.is_active is False


def test_deactivating_is_refused_to_everyone_else_and_changes_nothing(
    request: Any, authenticate: Any, api_client: Any, transporter: Any, lorry: Vehicle, transporter_viewer: Any
) -> None:
    before = snapshot()
    assert api_client.post(url(transporter, lorry, "deactivate")).status_code == 401
    cases = {
        "other_org_staff": (404, "partner_not_found"),
        "other_partner": (404, "partner_not_found"),
        "transporter_viewer": (403, "permission_denied"),
        "risk_officer": (403, "permission_denied"),
    }
    for name, expected in cases.items():
        user = request.getfixturevalue(name)
        user = getattr(user, "owner", user)

        response = authenticate(user).post(url(transporter, lorry, "deactivate"))

        assert error(response) == expected, name
        assert snapshot() == before, name


# --- suspended transporters -----------------------------------------------------------------------


def test_a_suspended_transporters_owner_reads_but_cannot_write(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    BusinessPartner.objects.filter(pk=transporter.pk).update(status="SUSPENDED")
    client = authenticate(transporter_owner)
    before = snapshot()

    created = client.post(url(transporter), vehicle_data(registration_number="GJ03AB0001"), format="json")
    changed = client.patch(url(transporter, lorry), {"vehicle_type": "TEMPO"}, format="json")
    deactivated = client.post(url(transporter, lorry, "deactivate"))

    assert [error(r) for r in (created, changed, deactivated)] == [(403, "partner_suspended")] * 3
    assert snapshot() == before
    assert client.get(url(transporter)).status_code == 200
    assert client.get(url(transporter, lorry)).status_code == 200


# --- reads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["transporter_owner", "transporter_viewer", "kyc_officer", "desk_manager"])
def test_members_and_staff_read_the_vehicles(
    request: Any, authenticate: Any, transporter: Any, lorry: Vehicle, reader: str
) -> None:
    client = authenticate(request.getfixturevalue(reader))

    listed = client.get(url(transporter))
    one = client.get(url(transporter, lorry))

    assert listed.status_code == 200
    assert [v["registration_number"] for v in listed.json()["results"]] == ["GJ03AB1234"]
    assert (one.status_code, one.json()["id"]) == (200, str(lorry.id))


def test_reads_are_404_outside_scope(
    request: Any, authenticate: Any, api_client: Any, transporter: Any, lorry: Vehicle
) -> None:
    assert api_client.get(url(transporter)).status_code == 401
    assert api_client.get(url(transporter, lorry)).status_code == 401
    for name in ("other_org_staff", "other_partner", "foreign_partner"):
        user = request.getfixturevalue(name)
        client = authenticate(getattr(user, "owner", user))

        assert error(client.get(url(transporter))) == (404, "partner_not_found"), name
        assert error(client.get(url(transporter, lorry))) == (404, "partner_not_found"), name


def test_the_list_filters_on_active(
    authenticate: Any, transporter: Any, transporter_owner: Any, lorry: Vehicle
) -> None:
    register(transporter, transporter_owner, registration_number="GJ03AB0002")
    services.vehicle_deactivate(actor=transporter_owner, partner_id=transporter.id, vehicle_id=lorry.id)
    client = authenticate(transporter_owner)

    active = client.get(url(transporter), {"is_active": "true"}).json()["results"]
    inactive = client.get(url(transporter), {"is_active": "false"}).json()["results"]

    assert [v["registration_number"] for v in active] == ["GJ03AB0002"]
    assert [v["registration_number"] for v in inactive] == ["GJ03AB1234"]


@pytest.mark.parametrize("reader", ["transporter_owner", "desk_manager"])
def test_the_list_costs_the_same_queries_whatever_the_page_size(
    request: Any,
    authenticate: Any,
    transporter: Any,
    transporter_owner: Any,
    django_assert_num_queries: Any,
    reader: str,
) -> None:
    for n in range(1, 9):
        register(transporter, transporter_owner, registration_number=f"GJ03AB{n:04d}")
    client = authenticate(request.getfixturevalue(reader))
    # user, membership, partner, membership check, 2 object-permission reads, the page (staff: user,
    # partner, 2 model-permission reads, the page)
    expected = {"transporter_owner": 7, "desk_manager": 5}[reader]

    for page_size in (2, 8):
        with django_assert_num_queries(expected):
            response = client.get(url(transporter), {"page_size": page_size})
        assert len(response.json()["results"]) == page_size


def test_the_back_office_partner_page_lists_the_vehicles(director: Any, transporter: Any, lorry: Vehicle) -> None:
    from django.test import Client

    client = Client()
    client.force_login(director, backend="django.contrib.auth.backends.ModelBackend")

    response = client.get(f"/admin/partners/businesspartner/{transporter.pk}/change/")

    assert response.status_code == 200
    assert "GJ03AB1234" in response.content.decode()

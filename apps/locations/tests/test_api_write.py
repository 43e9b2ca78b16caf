"""SPEC section 4 and 7: platform admins create (from a place id, idempotently), correct and
deactivate locations; everyone else is refused and nothing changes. Every write emits its event
(no organization: a global master) and leaves audit history."""

import pghistory
import pytest
from django.apps import apps

from apps.events.models import OutboxEvent
from apps.locations.models import Location
from apps.locations.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/locations/"
LocationEvent = apps.get_model("locations", "LocationEvent")


def _snapshot():
    rows = Location.objects.order_by("id").values()
    return [dict(row) for row in rows], OutboxEvent.objects.count()


# --- the permission matrix ------------------------------------------------------------------------

WRITES = {
    "create": lambda client, location: client.post(LIST, {"place_id": "gaz:kadi"}, format="json"),
    "update": lambda client, location: client.patch(f"{LIST}{location.id}/", {"pincode": "360002"}, format="json"),
    "deactivate": lambda client, location: client.post(f"{LIST}{location.id}/deactivate"),
}


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_anonymous_callers_are_refused_and_nothing_changes(api_client, operation):
    location = LocationFactory()
    before = _snapshot()

    response = WRITES[operation](api_client, location)

    assert response.status_code == 401
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["staff_without_capability", "partner_user"])
@pytest.mark.parametrize("operation", sorted(WRITES))
def test_users_without_the_capability_are_refused_and_nothing_changes(request, authenticate, operation, who):
    location = LocationFactory()
    client = authenticate(request.getfixturevalue(who))
    before = _snapshot()

    response = WRITES[operation](client, location)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert _snapshot() == before


@pytest.mark.parametrize(("operation", "status"), [("create", 201), ("update", 200), ("deactivate", 200)])
def test_a_platform_admin_may_write(authenticate, platform_admin, operation, status):
    location = LocationFactory()

    response = WRITES[operation](authenticate(platform_admin), location)

    assert response.status_code == status


def test_a_platform_admin_role_holds_the_location_capabilities(platform_admin):
    assert platform_admin.has_perm("locations.add_location")
    assert platform_admin.has_perm("locations.change_location")
    assert not platform_admin.is_superuser


# --- create ---------------------------------------------------------------------------------------


def test_creating_from_a_gazetteer_town_fills_every_field_and_emits_created(authenticate, platform_admin):
    response = authenticate(platform_admin).post(LIST, {"place_id": "gaz:gondal"}, format="json")

    assert response.status_code == 201
    location = Location.objects.get()
    body = response.json()
    assert body["id"] == str(location.id)
    assert {k: body[k] for k in ("name", "place_id", "city", "district", "state", "state_code", "pincode")} == {
        "name": "Gondal",
        "place_id": "gaz:gondal",
        "city": "Gondal",
        "district": "Rajkot",
        "state": "Gujarat",
        "state_code": "GJ",
        "pincode": "360311",
    }
    assert (body["latitude"], body["longitude"], body["region"], body["source"]) == (
        "21.961200",
        "70.793900",
        "WEST",
        "GAZETTEER",
    )
    event = OutboxEvent.objects.get()
    assert (event.type, event.aggregate_type, event.aggregate_id) == (
        "locations.location.created",
        "locations.location",
        str(location.id),
    )
    assert (event.organization_id, event.actor_id) == (None, platform_admin.id)
    assert event.payload["place_id"] == "gaz:gondal"
    assert event.payload["latitude"] == "21.961200"


def test_creating_the_same_place_twice_returns_the_first_location(authenticate, platform_admin):
    client = authenticate(platform_admin)

    first = client.post(LIST, {"place_id": "gaz:rajkot"}, format="json")
    again = client.post(LIST, {"place_id": "gaz:rajkot"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Location.objects.count() == 1
    assert OutboxEvent.objects.filter(type="locations.location.created").count() == 1


def test_a_state_can_be_a_location(authenticate, platform_admin):
    response = authenticate(platform_admin).post(LIST, {"place_id": "gaz:state:mh"}, format="json")

    assert response.status_code == 201
    assert (response.json()["name"], response.json()["region"], response.json()["city"]) == ("Maharashtra", "WEST", "")


@pytest.mark.parametrize(
    ("body", "status", "code"), [({"place_id": "gaz:atlantis"}, 404, "place_not_found"), ({}, 400, "validation_failed")]
)
def test_creating_from_an_unknown_or_missing_place_id_is_refused(authenticate, platform_admin, body, status, code):
    response = authenticate(platform_admin).post(LIST, body, format="json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Location.objects.count() == 0


# --- update ---------------------------------------------------------------------------------------


def test_correcting_fields_emits_updated_with_what_changed(authenticate, platform_admin):
    location = LocationFactory(name="Gondal", pincode="360311")

    response = authenticate(platform_admin).patch(
        f"{LIST}{location.id}/", {"pincode": "360312", "latitude": "21.96123456"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["pincode"], response.json()["latitude"]) == ("360312", "21.961235")
    event = OutboxEvent.objects.get()
    assert event.type == "locations.location.updated"
    assert event.organization_id is None
    assert event.payload["changed"] == {"latitude": ["22.303900", "21.961235"], "pincode": ["360311", "360312"]}


def test_moving_to_another_state_moves_the_region_and_state_name(authenticate, platform_admin):
    location = LocationFactory(state_code="GJ", pincode="")

    response = authenticate(platform_admin).patch(f"{LIST}{location.id}/", {"state_code": "ts"}, format="json")

    assert response.status_code == 200
    assert (response.json()["state_code"], response.json()["state"], response.json()["region"]) == (
        "TS",
        "Telangana",
        "SOUTH",
    )
    assert OutboxEvent.objects.get().payload["changed"]["region"] == ["WEST", "SOUTH"]


def test_a_change_to_nothing_emits_nothing(authenticate, platform_admin):
    location = LocationFactory(pincode="360001")

    response = authenticate(platform_admin).patch(f"{LIST}{location.id}/", {"pincode": "360001"}, format="json")

    assert response.status_code == 200
    assert OutboxEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"pincode": "36001"}, "pincode"),
        ({"pincode": "012345"}, "pincode"),
        ({"state_code": "ZZ"}, "state_code"),
        ({"latitude": "95"}, "latitude"),
        ({"longitude": "-181"}, "longitude"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_values_are_refused_with_400_naming_the_field(authenticate, platform_admin, body, attr):
    location = LocationFactory()
    before = _snapshot()

    response = authenticate(platform_admin).patch(f"{LIST}{location.id}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert [e["attr"] for e in response.json()["errors"]] == [attr]
    assert _snapshot() == before


def test_patch_cannot_deactivate_but_can_reactivate(authenticate, platform_admin):
    active, inactive = LocationFactory(), LocationFactory(is_active=False)
    client = authenticate(platform_admin)

    refused = client.patch(f"{LIST}{active.id}/", {"is_active": False}, format="json")
    reactivated = client.patch(f"{LIST}{inactive.id}/", {"is_active": True}, format="json")

    assert (refused.status_code, refused.json()["code"]) == (400, "use_deactivate")
    assert (reactivated.status_code, reactivated.json()["is_active"]) == (200, True)
    assert OutboxEvent.objects.get().payload["changed"] == {"is_active": [False, True]}


def test_updating_an_unknown_location_is_404(authenticate, platform_admin):
    response = authenticate(platform_admin).patch(
        f"{LIST}00000000-0000-0000-0000-000000000000/", {"pincode": "360001"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (404, "location_not_found")


# --- deactivate -----------------------------------------------------------------------------------


def test_deactivating_hides_the_location_from_the_list_and_emits_deactivated(authenticate, platform_admin):
    location = LocationFactory(name="Old Yard")
    client = authenticate(platform_admin)

    response = client.post(f"{LIST}{location.id}/deactivate")
    again = client.post(f"{LIST}{location.id}/deactivate")

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert again.status_code == 200
    assert [e.type for e in OutboxEvent.objects.all()] == ["locations.location.deactivated"]
    assert client.get(LIST).json()["results"] == []


# --- audit history --------------------------------------------------------------------------------


def test_api_writes_leave_history_with_the_actor_and_request_id(authenticate, platform_admin):
    client = authenticate(platform_admin)
    created = client.post(LIST, {"place_id": "gaz:akola"}, format="json", HTTP_X_REQUEST_ID="loc-create-0001")
    location_id = created.json()["id"]
    client.patch(f"{LIST}{location_id}/", {"pincode": "444002"}, format="json", HTTP_X_REQUEST_ID="loc-update-0001")
    client.post(f"{LIST}{location_id}/deactivate", HTTP_X_REQUEST_ID="loc-deact-0001")

    history = list(
        LocationEvent.objects.filter(pgh_obj_id=location_id)
        .order_by("pgh_id")
        .values_list("pgh_label", "pincode", "is_active", "pgh_context__metadata")
    )
    assert [(label, pincode, active) for label, pincode, active, _ in history] == [
        ("insert", "444001", True),
        ("update", "444002", True),
        ("update", "444002", False),
    ]
    assert [(m["user"], m["request_id"]) for *_, m in history] == [
        (str(platform_admin.id), "loc-create-0001"),
        (str(platform_admin.id), "loc-update-0001"),
        (str(platform_admin.id), "loc-deact-0001"),
    ]


def test_service_writes_outside_a_request_leave_history_too():
    location = LocationFactory(pincode="360001")

    with pghistory.context(request_id="seed-0001"):
        from apps.locations.services.locations import location_update

        location_update(location_id=location.id, actor=None, pincode="360002")

    assert list(
        LocationEvent.objects.filter(pgh_obj=location).order_by("pgh_id").values_list("pgh_label", flat=True)
    ) == [
        "insert",
        "update",
    ]

"""The back office imports locations from CSV/Excel with a dry-run preview: a file with a bad row
is reported row by row and nothing is written; a good file imports through the services (events,
derived fields), matching existing rows by place id."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from import_export.formats.base_formats import CSV

from apps.events.models import OutboxEvent
from apps.locations.admin.locations import LocationAdmin
from apps.locations.models import Location
from apps.locations.resources import LocationResource
from apps.locations.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

IMPORT = "/admin/locations/location/import/"
PROCESS = "/admin/locations/location/process_import/"
CHANGELIST = "/admin/locations/location/"

HEADER = "place_id,name,city,district,state_code,pincode,latitude,longitude\n"
GOOD_CSV = HEADER + (
    "yard:kadi-1,Kadi Market Yard,Kadi,Mehsana,GJ,382715,23.2990,72.3320\n"
    "yard:akola-1,Akola APMC,Akola,Akola,mh,444001,20.700215,77.008245\n"
)
BAD_CSV = HEADER + (
    "yard:kadi-1,Kadi Market Yard,Kadi,Mehsana,GJ,382715,23.2990,72.3320\n"
    "yard:akola-1,Akola APMC,Akola,Akola,MH,44400,20.7002,77.0082\n"
)


def _dataset(text):
    return tablib.Dataset().load(text, format="csv")


def test_a_dry_run_reports_the_bad_row_and_writes_nothing():
    result = LocationResource().import_data(_dataset(BAD_CSV), dry_run=True)

    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert result.invalid_rows[0].field_specific_errors == {
        "pincode": ["An Indian pincode is six digits and does not start with 0."]
    }
    assert Location.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_a_dry_run_of_a_good_file_previews_and_writes_nothing():
    result = LocationResource().import_data(_dataset(GOOD_CSV), dry_run=True)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["new"] == 2
    assert Location.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_a_good_file_imports_through_the_services(platform_admin):
    result = LocationResource().import_data(_dataset(GOOD_CSV), dry_run=False, user=platform_admin)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    rows = list(
        Location.objects.order_by("name").values_list("name", "state_code", "state", "region", "latitude", "source")
    )
    assert [(n, c, s, r, str(lat), src) for n, c, s, r, lat, src in rows] == [
        ("Akola APMC", "MH", "Maharashtra", "WEST", "20.700215", "MANUAL"),
        ("Kadi Market Yard", "GJ", "Gujarat", "WEST", "23.299000", "MANUAL"),
    ]
    events = OutboxEvent.objects.all()
    assert [e.type for e in events] == ["locations.location.created"] * 2
    assert {e.actor_id for e in events} == {platform_admin.id}


def test_importing_again_matches_rows_by_place_id_and_updates_only_what_changed(platform_admin):
    LocationResource().import_data(_dataset(GOOD_CSV), dry_run=False, user=platform_admin)
    ids = set(Location.objects.values_list("id", flat=True))

    changed = GOOD_CSV.replace("Kadi,Mehsana,GJ,382715", "Kadi,Mehsana,GJ,382716")
    result = LocationResource().import_data(_dataset(changed), dry_run=False, user=platform_admin)

    assert (result.totals["update"], result.totals["skip"], result.totals["new"]) == (1, 1, 0)
    assert set(Location.objects.values_list("id", flat=True)) == ids
    assert Location.objects.get(place_id="yard:kadi-1").pincode == "382716"
    assert OutboxEvent.objects.filter(type="locations.location.updated").count() == 1


def test_export_has_every_column_and_round_trips():
    LocationFactory(name="Gondal", place_id="gaz:gondal", pincode="360311")

    dataset = LocationResource().export()

    assert dataset.headers == [
        "id", "name", "place_id", "address", "city", "district", "state", "state_code", "pincode",
        "country", "latitude", "longitude", "region", "timezone", "source", "is_active",
    ]  # fmt: skip
    assert LocationResource().import_data(dataset, dry_run=True).totals["skip"] == 1


# --- through the admin screens ------------------------------------------------------------------


def _csv_format_index():
    return next(i for i, f in enumerate(LocationAdmin(Location, None).get_import_formats()) if f is CSV)


def _upload(client, text):
    return client.post(
        IMPORT,
        {
            "resource": "0",
            "format": str(_csv_format_index()),
            "import_file": SimpleUploadedFile("locations.csv", text.encode(), content_type="text/csv"),
        },
    )


def test_the_admin_preview_lists_the_bad_row_offers_no_confirmation_and_writes_nothing(client, platform_admin):
    client.force_login(platform_admin)

    response = _upload(client, BAD_CSV)

    assert response.status_code == 200
    assert response.context["result"].has_validation_errors()
    assert "confirm_form" not in response.context
    assert "An Indian pincode is six digits" in response.content.decode()
    assert Location.objects.count() == 0


def test_the_admin_imports_a_good_file_after_confirmation(client, platform_admin):
    client.force_login(platform_admin)

    preview = _upload(client, GOOD_CSV)
    assert Location.objects.count() == 0
    confirm = preview.context["confirm_form"]
    response = client.post(PROCESS, {name: confirm.initial[name] for name in confirm.fields})

    assert response.status_code == 302
    assert sorted(Location.objects.values_list("name", flat=True)) == ["Akola APMC", "Kadi Market Yard"]
    assert OutboxEvent.objects.filter(type="locations.location.created", actor_id=platform_admin.id).count() == 2


def test_staff_without_the_capability_cannot_import(client, staff_without_capability):
    client.force_login(staff_without_capability)

    assert client.get(IMPORT).status_code == 403
    assert _upload(client, GOOD_CSV).status_code == 403
    assert Location.objects.count() == 0


def test_the_changelist_searches_and_filters(client, platform_admin):
    LocationFactory(name="Gondal", state_code="GJ")
    LocationFactory(name="Guntur", state_code="AP", pincode="522001")
    client.force_login(platform_admin)

    by_search = client.get(CHANGELIST, {"q": "gon"})
    by_region = client.get(CHANGELIST, {"region__exact": "SOUTH"})
    by_state = client.get(CHANGELIST, {"state_code": "GJ"})

    assert [loc.name for loc in by_search.context["cl"].result_list] == ["Gondal"]
    assert [loc.name for loc in by_region.context["cl"].result_list] == ["Guntur"]
    assert [loc.name for loc in by_state.context["cl"].result_list] == ["Gondal"]


def test_the_deactivate_action_reports_a_location_in_use(client, platform_admin, register_referrer):
    used, unused = LocationFactory(name="Used Yard"), LocationFactory(name="Unused Yard")
    register_referrer("partners.branch").counts[used.id] = 1
    client.force_login(platform_admin)

    response = client.post(
        CHANGELIST, {"action": "deactivate_selected", "_selected_action": [str(used.id), str(unused.id)]}, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any("Used Yard" in m and "still in use" in m for m in messages)
    assert "Deactivated 1 location(s)." in messages
    assert dict(Location.objects.values_list("name", "is_active")) == {"Used Yard": True, "Unused Yard": False}


def _form(**overrides):
    data = {
        "name": "Jasdan Yard",
        "place_id": "",
        "source": "MANUAL",
        "address": "Market Yard, Jasdan",
        "city": "Jasdan",
        "district": "Rajkot",
        "state": "",
        "state_code": "GJ",
        "pincode": "360050",
        "country": "IN",
        "latitude": "22.0373",
        "longitude": "71.2043",
        "timezone": "Asia/Kolkata",
    }
    return {**data, **overrides}


def test_adding_and_changing_in_the_admin_goes_through_the_services(client, platform_admin):
    client.force_login(platform_admin)

    added = client.post(f"{CHANGELIST}add/", _form())
    location = Location.objects.get()
    changed = client.post(f"{CHANGELIST}{location.id}/change/", _form(pincode="360051"))

    assert (added.status_code, changed.status_code) == (302, 302)
    location.refresh_from_db()
    assert (location.place_id, location.state, location.region, location.pincode) == (None, "Gujarat", "WEST", "360051")
    assert [e.type for e in OutboxEvent.objects.order_by("position")] == [
        "locations.location.created",
        "locations.location.updated",
    ]
    assert OutboxEvent.objects.get(type="locations.location.updated").payload["changed"] == {
        "pincode": ["360050", "360051"]
    }


def test_the_admin_form_refuses_a_bad_pincode_and_saves_nothing(client, platform_admin):
    client.force_login(platform_admin)

    response = client.post(f"{CHANGELIST}add/", _form(pincode="3600"))

    assert response.status_code == 200
    assert "pincode" in response.context["adminform"].form.errors
    assert Location.objects.count() == 0
    assert OutboxEvent.objects.count() == 0

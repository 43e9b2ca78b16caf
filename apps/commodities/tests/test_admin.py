"""The back office: searchable, filterable screens; inline varieties and parameters; schedules
with inline rules (drafts only) and an activate action; CSV import with a dry-run preview that
reports bad rows and writes nothing; export. Mutations go through the services (events)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import tablib
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.commodities.models import Commodity, QualitySchedule, TradeTerm, Variety
from apps.commodities.resources import CommodityResource, TradeTermResource
from apps.commodities.tests.factories import TradeTermFactory, exchange_schedule
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

HEADER = "code,name,category,hsn_code,gst_rate,base_unit,trade_unit,rate_unit,description,is_active\n"
GOOD_ROWS = "KAPAS,Kapas,RAW,5201,5.00,KG,QUINTAL,QUINTAL,Seed cotton,1\nYARN,Cotton yarn,YARN,5205,5.00,KG,KG,KG,,1\n"
BAD_ROW = "COTTONSEED,Cottonseed,SEED,1207,5.00,KG,TOLA,QUINTAL,,1\n"  # no such unit


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("commodities.csv", text.encode(), content_type="text/csv")


def form_data(response) -> dict:
    """The POST body of an admin change page as rendered: its form and every inline formset."""
    data: dict = {}

    def add(form, prefix_name):
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = prefix_name(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(field, forms.JSONField):
                data[key] = value if isinstance(value, str) else json.dumps(value)
            elif value is not None:
                data[key] = value

    add(response.context["adminform"].form, lambda name: name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset.forms:
            add(form, form.add_prefix)
    return data


def test_the_screens_render_with_search_and_filters(admin_client, cotton, schedule_v1):
    TradeTermFactory(kind="DELIVERY", code="EX_GIN")
    pages = [
        "/admin/commodities/commodity/?q=cotton&category__exact=FIBRE",
        f"/admin/commodities/commodity/{cotton.id}/change/",
        "/admin/commodities/qualityschedule/?is_active__exact=1",
        f"/admin/commodities/qualityschedule/{schedule_v1.id}/change/",
        "/admin/commodities/qualityschedule/add/",
        "/admin/commodities/tradeterm/?kind__exact=DELIVERY&q=gin",
        "/admin/commodities/commissionstructure/",
        "/admin/commodities/unit/",
        "/admin/commodities/commodity/import/",
        "/admin/commodities/commodity/export/",
    ]

    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    listed = admin_client.get("/admin/commodities/commodity/?q=shankar").context["cl"].result_list
    assert list(listed) == [cotton]


def test_nothing_is_deleted_from_the_back_office(admin_client, cotton):
    assert admin_client.get(f"/admin/commodities/commodity/{cotton.id}/delete/").status_code == 403


def test_a_variety_added_inline_goes_through_the_service(admin_client, cotton, platform_admin):
    page = admin_client.get(f"/admin/commodities/commodity/{cotton.id}/change/")
    data = form_data(page)
    n = int(data["varieties-TOTAL_FORMS"])
    data.update(
        {
            "varieties-TOTAL_FORMS": n + 1,
            f"varieties-{n}-code": "SUVIN",
            f"varieties-{n}-name": "Suvin",
            f"varieties-{n}-is_active": "on",
        }
    )

    response = admin_client.post(f"/admin/commodities/commodity/{cotton.id}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert Variety.objects.filter(commodity=cotton, code="SUVIN").exists()
    event = OutboxEvent.objects.get(type="commodities.variety.created")
    assert event.actor_id == platform_admin.id
    assert not OutboxEvent.objects.filter(type="commodities.commodity.updated").exists()  # the commodity is unchanged


def test_an_activated_schedule_shows_its_rules_read_only(admin_client, schedule_v1):
    response = admin_client.get(f"/admin/commodities/qualityschedule/{schedule_v1.id}/change/")

    [rules] = response.context["inline_admin_formsets"]
    assert rules.has_change_permission is False
    assert rules.has_add_permission is False


def test_the_activate_action_activates_a_draft(admin_client, cotton):
    draft = exchange_schedule(cotton, activate=False)

    response = admin_client.post(
        "/admin/commodities/qualityschedule/", {"action": "activate", "_selected_action": [str(draft.id)]}
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_active is True
    assert OutboxEvent.objects.filter(type="commodities.schedule.activated").count() == 1


def test_an_empty_draft_is_not_activated_and_the_admin_is_told(admin_client, cotton):
    draft = exchange_schedule(cotton, activate=False, rules=[])

    response = admin_client.post(
        "/admin/commodities/qualityschedule/",
        {"action": "activate", "_selected_action": [str(draft.id)]},
        follow=True,
    )

    assert "needs at least one rule" in response.content.decode()
    assert QualitySchedule.objects.get(pk=draft.pk).is_active is False


# --- import / export --------------------------------------------------------------------------


def test_a_dry_run_with_one_bad_row_reports_it_and_writes_nothing(admin_client, units):
    response = admin_client.post(
        "/admin/commodities/commodity/import/",
        {"format": "0", "resource": "0", "import_file": csv_upload(HEADER + GOOD_ROWS + BAD_ROW)},
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 3
    assert invalid.error_dict == {"trade_unit": ["No unit has the code 'TOLA'."]}
    assert "confirm_form" not in response.context  # nothing to confirm
    assert "No unit has the code &#x27;TOLA&#x27;." in response.content.decode()
    assert not Commodity.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_a_good_file_previews_then_imports_through_the_services(admin_client, units, platform_admin):
    preview = admin_client.post(
        "/admin/commodities/commodity/import/",
        {"format": "0", "resource": "0", "import_file": csv_upload(HEADER + GOOD_ROWS)},
    )
    assert not Commodity.objects.exists()  # the preview is a dry run
    confirm = preview.context["confirm_form"]

    response = admin_client.post("/admin/commodities/commodity/process_import/", confirm.initial)

    assert response.status_code == 302
    kapas = Commodity.objects.select_related("trade_unit").get(code="KAPAS")
    assert (kapas.category, kapas.trade_unit.code, kapas.gst_rate) == ("RAW", "QUINTAL", Decimal("5.00"))
    assert Commodity.objects.count() == 2
    events = OutboxEvent.objects.filter(type="commodities.commodity.created")
    assert [e.actor_id for e in events] == [platform_admin.id, platform_admin.id]


def test_the_resource_dry_run_rolls_back_and_a_rerun_changes_only_what_differs(units):
    dataset = tablib.Dataset().load(HEADER + GOOD_ROWS, format="csv")

    dry = CommodityResource().import_data(dataset, dry_run=True)
    assert (dry.has_errors(), dry.has_validation_errors(), Commodity.objects.count()) == (False, False, 0)

    CommodityResource().import_data(dataset, dry_run=False)
    changed = tablib.Dataset().load(HEADER + GOOD_ROWS.replace("Seed cotton", "Unginned"), format="csv")
    again = CommodityResource().import_data(changed, dry_run=False)

    assert [row.import_type for row in again.rows] == ["update", "skip"]
    assert Commodity.objects.get(code="KAPAS").description == "Unginned"
    assert OutboxEvent.objects.filter(type="commodities.commodity.updated").count() == 1


def test_an_organization_admin_may_not_import(client, organization_admin, units):
    organization_admin.is_staff = True
    organization_admin.save()
    client.force_login(organization_admin)

    response = client.post("/admin/commodities/commodity/import/", {"format": "0", "import_file": csv_upload(HEADER)})

    assert response.status_code == 403


def test_terms_import_with_their_typed_fields_and_refuse_a_misplaced_one(units):
    header = "kind,code,name,description,is_active,shortage_allowance_kg_per_100_bales,advance_percent,payment_days,carry_charge_percent_per_annum\n"
    good = "PAYMENT,CREDIT_30,30 days credit,,1,,0,30,18\nDELIVERY,EX_GIN,Ex gin,,1,,,,\n"
    bad = "DELIVERY,DELIVERED,Delivered,,1,,,7,\n"

    refused = TradeTermResource().import_data(tablib.Dataset().load(header + good + bad, format="csv"), dry_run=True)
    assert [row.number for row in refused.invalid_rows] == [3]
    assert not TradeTerm.objects.exists()

    imported = TradeTermResource().import_data(tablib.Dataset().load(header + good, format="csv"), dry_run=False)
    assert not imported.has_validation_errors()
    credit = TradeTerm.objects.get(code="CREDIT_30")
    assert (credit.payment_days, credit.carry_charge_percent_per_annum) == (30, Decimal("18.00"))


def test_export_writes_units_by_code(cotton):
    exported = CommodityResource().export().csv

    assert exported.splitlines()[0] == HEADER.strip()
    assert exported.splitlines()[1].startswith("COTTON,Cotton lint COTTON,FIBRE,5201,5.00,KG,BALE,CANDY,")


def test_a_schedule_is_added_with_inline_rules_as_a_draft_through_the_services(admin_client, cotton):
    page = admin_client.get("/admin/commodities/qualityschedule/add/")
    data = form_data(page)
    staple = cotton.parameters.get(code="staple_length")
    data.update(
        {
            "commodity": str(cotton.id),
            "name": "Exchange 29 mm",
            "effective_from": "2026-10-01",
            "rules-TOTAL_FORMS": 2,
            "rules-0-parameter": str(staple.id),
            "rules-0-kind": "REJECT_BELOW",
            "rules-0-lower": "27.0",
            "rules-1-parameter": str(staple.id),
            "rules-1-kind": "BAND",
            "rules-1-lower": "28.0",
            "rules-1-upper": "28.4",
            "rules-1-adjustment_kind": "PERCENT",
            "rules-1-value": "-3",
        }
    )

    response = admin_client.post("/admin/commodities/qualityschedule/add/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    schedule = QualitySchedule.objects.get(commodity=cotton)
    assert (schedule.version, schedule.is_active, schedule.rules.count()) == (1, False, 2)
    assert [e.type for e in OutboxEvent.objects.order_by("position")] == [
        "commodities.schedule.created",
        "commodities.schedule.updated",
    ]


def test_a_parameter_added_inline_emits_parameter_changed(admin_client, cotton):
    data = form_data(admin_client.get(f"/admin/commodities/commodity/{cotton.id}/change/"))
    n = int(data["parameters-TOTAL_FORMS"])
    data.update(
        {
            "parameters-TOTAL_FORMS": n + 1,
            f"parameters-{n}-code": "short_fibre",
            f"parameters-{n}-name": "Short fibre index",
            f"parameters-{n}-kind": "NUMERIC",
            f"parameters-{n}-min_value": "0",
            f"parameters-{n}-max_value": "20",
            f"parameters-{n}-decimals": "1",
            f"parameters-{n}-order": "95",
            f"parameters-{n}-allowed_values": "[]",
            f"parameters-{n}-is_active": "on",
        }
    )

    response = admin_client.post(f"/admin/commodities/commodity/{cotton.id}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    event = OutboxEvent.objects.get(type="commodities.parameter.changed")
    assert (event.payload["code"], event.payload["change"]) == ("short_fibre", "created")


def test_a_service_refusal_is_reported_and_nothing_is_saved(admin_client, cotton):
    from apps.commodities.services.commissions import commission_create

    spot = TradeTermFactory(kind="TRADE_TYPE", code="SPOT")
    commission_create(
        actor=None, commodity_id=cotton.id, trade_type=spot, basis="PERCENTAGE", rate=Decimal("1"), applies_to="BOTH"
    )
    data = form_data(admin_client.get("/admin/commodities/commissionstructure/add/"))
    data.update(
        {
            "commodity": str(cotton.id),
            "trade_type": str(spot.id),
            "basis": "PERCENTAGE",
            "rate": "0.5",
            "applies_to": "BUYER",
            "is_active": "on",
        }
    )

    response = admin_client.post("/admin/commodities/commissionstructure/add/", data, follow=True)

    assert "Not saved: The active structure" in response.content.decode()
    assert cotton.commissions.count() == 1
    assert OutboxEvent.objects.filter(type="commodities.commission.created").count() == 1


def test_a_commodity_is_added_with_a_variety_through_the_services(admin_client, units):
    data = form_data(admin_client.get("/admin/commodities/commodity/add/"))
    data.update(
        {
            "code": "KAPAS",
            "name": "Kapas",
            "category": "RAW",
            "hsn_code": "5201",
            "gst_rate": "5.00",
            "base_unit": str(units["KG"].id),
            "trade_unit": str(units["QUINTAL"].id),
            "rate_unit": str(units["QUINTAL"].id),
            "is_active": "on",
            "varieties-TOTAL_FORMS": 1,
            "varieties-0-code": "SHANKAR-6",
            "varieties-0-name": "Shankar-6",
            "varieties-0-is_active": "on",
        }
    )

    response = admin_client.post("/admin/commodities/commodity/add/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    kapas = Commodity.objects.get(code="KAPAS")
    assert list(kapas.varieties.values_list("code", flat=True)) == ["SHANKAR-6"]
    assert [e.type for e in OutboxEvent.objects.order_by("position")] == [
        "commodities.commodity.created",
        "commodities.variety.created",
    ]

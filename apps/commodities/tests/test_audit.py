"""Every change of a master leaves an audit snapshot (django-pghistory) naming the user and the
request id; no-op updates leave none."""

from __future__ import annotations

import pytest
from django.apps import apps

from apps.commodities.services.commissions import commission_create, commission_update
from apps.commodities.services.commodities import commodity_update
from apps.commodities.services.parameters import parameter_update
from apps.commodities.services.schedules import schedule_activate, schedule_rules_replace
from apps.commodities.services.terms import term_update
from apps.commodities.services.units import unit_update
from apps.commodities.services.varieties import variety_update
from apps.commodities.tests.factories import TradeTermFactory, exchange_schedule

pytestmark = pytest.mark.django_db


def history(model: str, obj) -> list[str]:
    event_model = apps.get_model("commodities", f"{model}Event")
    return list(event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id").values_list("pgh_label", flat=True))


def test_an_api_change_is_audited_with_the_user_and_the_request_id(authenticate, platform_admin, cotton):
    response = authenticate(platform_admin).patch(
        f"/api/v1/commodities/{cotton.id}/", {"name": "Cotton (lint)"}, format="json", HTTP_X_REQUEST_ID="audit-c-1"
    )

    assert response.status_code == 200
    event = apps.get_model("commodities", "CommodityEvent").objects.get(pgh_obj_id=cotton.id, pgh_label="update")
    assert event.name == "Cotton (lint)"
    assert event.pgh_context.metadata == {
        "user": str(platform_admin.pk),
        "url": f"/api/v1/commodities/{cotton.id}/",
        "request_id": "audit-c-1",
    }


def test_every_master_is_audited_on_insert_and_change(cotton):
    variety = cotton.varieties.first()
    parameter = cotton.parameters.get(code="staple_length")  # order 1
    schedule = exchange_schedule(cotton, activate=False)
    rule = schedule.rules.first()
    term = TradeTermFactory(kind="DELIVERY", code="EX_GIN")
    commission = commission_create(
        actor=None,
        commodity_id=cotton.id,
        trade_type=TradeTermFactory(code="SPOT"),
        basis="PERCENTAGE",
        rate=1,
        applies_to="BOTH",
    )

    commodity_update(actor=None, commodity_id=cotton.id, description="Lint")
    variety_update(actor=None, commodity_id=cotton.id, variety_id=variety.id, description="Hybrid")
    parameter_update(actor=None, commodity_id=cotton.id, parameter_id=parameter.id, order=1)
    parameter_update(actor=None, commodity_id=cotton.id, parameter_id=parameter.id, order=1)  # no change
    schedule_activate(actor=None, commodity_id=cotton.id, schedule_id=schedule.id)
    term_update(actor=None, term_id=term.id, is_active=False)
    commission_update(actor=None, commodity_id=cotton.id, commission_id=commission.id, is_active=False)
    unit_update(actor=None, unit_id=cotton.rate_unit_id, description="Indian candy")

    assert history("Commodity", cotton) == ["insert", "update"]
    assert history("Variety", variety) == ["insert", "update"]
    assert history("QualityParameter", parameter) == ["insert"]  # order was already 1
    assert history("QualitySchedule", schedule) == ["insert", "update"]
    assert history("ScheduleRule", rule) == ["insert"]
    assert history("TradeTerm", term) == ["insert", "update"]
    assert history("CommissionStructure", commission) == ["insert", "update"]
    assert history("Unit", cotton.rate_unit) == ["insert", "update"]


def test_replacing_a_drafts_rules_audits_the_deleted_ones(cotton):
    schedule = exchange_schedule(cotton, activate=False)
    old_rule = schedule.rules.first()

    schedule_rules_replace(actor=None, schedule_id=schedule.id, rules=[])

    assert history("ScheduleRule", old_rule) == ["insert", "delete"]

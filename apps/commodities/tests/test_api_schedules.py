"""Schedules, price adjustment and conversions through the API."""

from __future__ import annotations

import pytest

from apps.commodities.models import QualitySchedule
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

EXCHANGE_RULES_JSON = [
    {"parameter": "staple_length", "kind": "REJECT_BELOW", "lower": "27.0"},
    {
        "parameter": "staple_length",
        "kind": "BAND",
        "lower": "27.0",
        "upper": "27.9",
        "adjustment_kind": "PERCENT",
        "value": "-7",
    },
    {
        "parameter": "staple_length",
        "kind": "BAND",
        "lower": "28.0",
        "upper": "28.4",
        "adjustment_kind": "PERCENT",
        "value": "-3",
    },
    {
        "parameter": "staple_length",
        "kind": "BAND",
        "lower": "28.5",
        "upper": "29.5",
        "adjustment_kind": "PERCENT",
        "value": "0",
    },
    {"parameter": "micronaire", "kind": "REJECT_ABOVE", "upper": "4.9"},
    {
        "parameter": "micronaire",
        "kind": "BAND",
        "lower": "4.81",
        "upper": "4.9",
        "adjustment_kind": "PERCENT",
        "value": "-0.3",
    },
    {
        "parameter": "trash",
        "kind": "RATIO",
        "lower": "3.5",
        "upper": "5.0",
        "basis": "3.5",
        "adjustment_kind": "PERCENT",
        "value": "-1",
        "step": "1",
    },
]


def url(commodity, suffix=""):
    return f"/api/v1/commodities/{commodity.id}/{suffix}"


def test_a_platform_admin_creates_a_draft_version_and_activates_it(authenticate, platform_admin, cotton):
    client = authenticate(platform_admin)

    created = client.post(
        url(cotton, "schedules/"),
        {
            "name": "Exchange 29 mm",
            "effective_from": "2026-10-01",
            "basis_description": "29 mm",
            "rules": EXCHANGE_RULES_JSON,
        },
        format="json",
    )
    schedule_id = created.json()["id"]
    activated = client.post(url(cotton, f"schedules/{schedule_id}/activate"))

    assert created.status_code == 201
    body = created.json()
    assert (body["version"], body["is_active"], body["is_frozen"], len(body["rules"])) == (1, False, False, 7)
    assert body["rules"][2] == {
        "id": body["rules"][2]["id"],
        "parameter": "staple_length",
        "kind": "BAND",
        "lower": "28",
        "upper": "28.4",
        "basis": None,
        "adjustment_kind": "PERCENT",
        "value": "-3",
        "step": None,
        "note": "",
        "description": "28.0-28.4: -3%",
    }
    assert activated.status_code == 200
    assert (activated.json()["is_active"], activated.json()["is_frozen"]) == (True, True)
    assert [e.type for e in OutboxEvent.objects.order_by("position")] == [
        "commodities.schedule.created",
        "commodities.schedule.activated",
    ]
    assert OutboxEvent.objects.get(type="commodities.schedule.created").payload == {
        "commodity_id": str(cotton.id),
        "version": 1,
        "name": "Exchange 29 mm",
        "effective_from": "2026-10-01",
        "is_active": False,
        "rules": 7,
    }


def test_bad_rules_are_400_with_the_rule_index(authenticate, platform_admin, cotton):
    rules = [{"parameter": "staple_length", "kind": "BAND", "lower": "28.0", "upper": "28.4"}]

    response = authenticate(platform_admin).post(
        url(cotton, "schedules/"), {"name": "Bad", "effective_from": "2026-10-01", "rules": rules}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "schedule_invalid"
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
        ("rules.0.value", "invalid"),
        ("rules.0.adjustment_kind", "invalid"),
    ]
    assert not QualitySchedule.objects.exists()


def test_a_schedule_needs_rules(authenticate, platform_admin, cotton):
    response = authenticate(platform_admin).post(
        url(cotton, "schedules/"), {"name": "Empty", "effective_from": "2026-10-01", "rules": []}, format="json"
    )

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("rules.non_field_errors", "empty")]


def test_versions_are_listed_newest_first_with_their_rules(authenticate, partner_user, cotton, schedule_v1):
    from apps.commodities.tests.factories import exchange_schedule

    exchange_schedule(cotton, activate=False)

    body = authenticate(partner_user).get(url(cotton, "schedules/")).json()

    assert [(s["version"], s["is_active"]) for s in body["results"]] == [(2, False), (1, True)]
    assert len(body["results"][1]["rules"]) == 15
    active = authenticate(partner_user).get(url(cotton, "schedules/"), {"is_active": "true"}).json()
    assert [s["version"] for s in active["results"]] == [1]


def test_the_price_adjustment_explains_each_line(authenticate, partner_user, cotton, schedule_v1):
    response = authenticate(partner_user).post(
        url(cotton, f"schedules/{schedule_v1.id}/price-adjustment"),
        {"values": {"staple_length": "28.2", "micronaire": 4.85}, "basis_price": "60000"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    for line in body["lines"]:
        del line["rule_id"]
    assert body == {
        "schedule_id": str(schedule_v1.id),
        "schedule_version": 1,
        "basis_price": "60000.00",
        "adjusted_price": "58020.00",
        "total_adjustment": "-1980.00",
        "rejected": False,
        "reject_reasons": [],
        "lines": [
            {
                "parameter": "staple_length",
                "value": "28.2",
                "rule": "28.0-28.4: -3%",
                "adjustment_kind": "PERCENT",
                "rate": "-3",
                "amount": "-1800.00",
            },
            {
                "parameter": "micronaire",
                "value": "4.85",
                "rule": "4.81-4.90: -0.3%",
                "adjustment_kind": "PERCENT",
                "rate": "-0.3",
                "amount": "-180.00",
            },
        ],
        "not_covered": [],
    }


def test_a_rejected_lot_has_no_price(authenticate, staff, cotton, schedule_v1):
    body = (
        authenticate(staff)
        .post(
            url(cotton, f"schedules/{schedule_v1.id}/price-adjustment"),
            {"values": {"micronaire": "5.0"}, "basis_price": "60000"},
            format="json",
        )
        .json()
    )

    assert (body["rejected"], body["adjusted_price"]) == (True, None)
    assert body["reject_reasons"] == [{"parameter": "micronaire", "value": "5", "rule": "above 4.90: reject"}]


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"values": {"micronaire": "soft"}, "basis_price": "60000"}, "quality.micronaire", "not_a_number"),
        ({"values": {"neps": "3"}, "basis_price": "60000"}, "quality.neps", "unknown_parameter"),
        ({"values": {"micronaire": True}, "basis_price": "60000"}, "values.micronaire", "invalid"),
        ({"values": {}, "basis_price": "0"}, "basis_price", "min_value"),
        ({"values": {}, "basis_price": "60000.001"}, "basis_price", "max_decimal_places"),
    ],
)
def test_bad_price_adjustment_input_is_a_400_field_error(authenticate, staff, cotton, schedule_v1, payload, attr, code):
    response = authenticate(staff).post(
        url(cotton, f"schedules/{schedule_v1.id}/price-adjustment"), payload, format="json"
    )

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]


def test_a_schedule_of_another_commodity_is_not_found(authenticate, staff, cotton, schedule_v1):
    from apps.commodities.tests.factories import cotton as make_cotton

    other = make_cotton("OTHER")

    response = authenticate(staff).get(url(other, f"schedules/{schedule_v1.id}/"))

    assert response.status_code == 404


# --- conversions ------------------------------------------------------------------------------


def test_100_bales_at_60000_per_candy(authenticate, partner_user, cotton):
    response = authenticate(partner_user).post(
        url(cotton, "conversions"),
        {"quantity": "100", "unit": "BALE", "price": "60000", "price_unit": "CANDY"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "commodity": "COTTON",
        "quantity": "100.000",
        "unit": "BALE",
        "quantities": {"KG": "17000.000", "BALE": "100.000", "CANDY": "47.804"},
        "quantity_kg": "17000.000",
        "price": "60000.0000",
        "price_unit": "CANDY",
        # 60000 / 355.62 = 168.7194...; x 170 = 28682.299...
        "prices": {"KG": "168.72", "BALE": "28682.30", "CANDY": "60000.00"},
        "price_per_kg": "168.72",
        # 17000 x 60000 / 355.62 = 2,868,230.133... (not 17000 x 168.72 = 2,868,240.00)
        "amount": "2868230.13",
        "factors": {"KG": "1", "BALE": "170", "CANDY": "355.62"},
    }


def test_the_entered_units_are_added_and_the_price_unit_defaults_to_the_rate_unit(authenticate, staff, cotton):
    body = (
        authenticate(staff)
        .post(url(cotton, "conversions"), {"quantity": "10", "unit": "MT", "price": "60000"}, format="json")
        .json()
    )

    assert body["quantities"] == {"KG": "10000.000", "BALE": "58.824", "CANDY": "28.120", "MT": "10.000"}
    assert body["price_unit"] == "CANDY"
    assert body["prices"]["MT"] == "168719.42"  # 60000 x 1000 / 355.62
    assert body["amount"] == "1687194.20"  # 10,000 kg x 60000 / 355.62 = 1,687,194.2017...


def test_without_a_price_only_quantities_are_answered(authenticate, staff, cotton):
    body = (
        authenticate(staff).post(url(cotton, "conversions"), {"quantity": "1", "unit": "candy"}, format="json").json()
    )

    assert body["quantities"] == {"KG": "355.620", "BALE": "2.092", "CANDY": "1.000"}
    assert (body["price"], body["prices"], body["price_per_kg"], body["amount"]) == (None, {}, None, None)


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"quantity": "100", "unit": "TOLA"}, "unit", "unknown_unit"),
        ({"quantity": "100", "unit": "BALE", "price": "1", "price_unit": "TOLA"}, "price_unit", "unknown_unit"),
        ({"quantity": "-1", "unit": "BALE"}, "quantity", "min_value"),
        ({"quantity": "1.0001", "unit": "BALE"}, "quantity", "max_decimal_places"),
        ({"quantity": "1", "unit": "BALE", "price": "-5"}, "price", "min_value"),
        ({"unit": "BALE"}, "quantity", "required"),
    ],
)
def test_bad_conversion_input_is_a_400_field_error(authenticate, staff, cotton, payload, attr, code):
    response = authenticate(staff).post(url(cotton, "conversions"), payload, format="json")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]

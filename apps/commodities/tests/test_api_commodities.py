"""Commodities, varieties, parameters and units through the API: reads for every signed-in user,
writes for holders of the capability; cursor pages; validated filters; constant query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.commodities.models import Commodity, QualityParameter, Variety
from apps.commodities.tests.factories import CommodityFactory, QualityParameterFactory, VarietyFactory
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

COMMODITIES = "/api/v1/commodities/"


def events(event_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=event_type).order_by("position"))


def test_anonymous_callers_are_refused(api_client, cotton):
    assert api_client.get(COMMODITIES).status_code == 401
    assert api_client.get("/api/v1/units/").status_code == 401


def test_a_partner_user_lists_commodities_with_varieties_and_parameters(authenticate, partner_user, cotton):
    response = authenticate(partner_user).get(COMMODITIES)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    [item] = body["results"]
    assert {
        k: item[k] for k in ("code", "category", "hsn_code", "gst_rate", "base_unit", "trade_unit", "rate_unit")
    } == {
        "code": "COTTON",
        "category": "FIBRE",
        "hsn_code": "5201",
        "gst_rate": "5",
        "base_unit": "KG",
        "trade_unit": "BALE",
        "rate_unit": "CANDY",
    }
    assert [v["name"] for v in item["varieties"]] == ["DCH-32", "Shankar-6"]
    assert [p["code"] for p in item["parameters"]] == [
        "staple_length",
        "micronaire",
        "strength",
        "trash",
        "moisture",
        "uniformity",
        "rd",
        "plus_b",
        "color_grade",
    ]
    staple = item["parameters"][0]
    assert {k: staple[k] for k in ("kind", "unit", "min_value", "max_value", "is_mandatory", "decimals")} == {
        "kind": "NUMERIC",
        "unit": "mm",
        "min_value": "22",
        "max_value": "34",
        "is_mandatory": True,
        "decimals": 1,
    }
    assert item["parameters"][-1]["allowed_values"][:3] == ["11-1", "21-1", "21-2"]


def test_retrieve_one_commodity_and_404_for_an_unknown_one(authenticate, staff, cotton):
    client = authenticate(staff)

    assert client.get(f"{COMMODITIES}{cotton.id}/").json()["code"] == "COTTON"
    missing = client.get(f"{COMMODITIES}00000000-0000-0000-0000-000000000000/")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_filters_and_search(authenticate, staff, units):
    CommodityFactory(code="COTTON", name="Cotton lint")
    CommodityFactory(code="COTTONSEED", name="Cottonseed", category="SEED", is_active=False)
    CommodityFactory(code="YARN", name="Yarn", category="YARN")
    client = authenticate(staff)

    def codes(query):
        return [c["code"] for c in client.get(COMMODITIES, query).json()["results"]]

    assert codes({}) == ["COTTON", "COTTONSEED", "YARN"]
    assert codes({"is_active": "true"}) == ["COTTON", "YARN"]
    assert codes({"is_active": "false"}) == ["COTTONSEED"]
    assert codes({"category": "SEED"}) == ["COTTONSEED"]
    assert codes({"search": "cotton"}) == ["COTTON", "COTTONSEED"]


@pytest.mark.parametrize(
    ("query", "attr"),
    [({"is_active": "maybe"}, "is_active"), ({"category": "GOLD"}, "category"), ({"page_size": "x"}, "page_size")],
)
def test_bad_filters_are_400_field_errors(authenticate, staff, cotton, query, attr):
    response = authenticate(staff).get(COMMODITIES, query)

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == [attr]


def test_pages_follow_the_code_with_a_cursor(authenticate, staff, units):
    for code in ("A1", "B1", "C1"):
        CommodityFactory(code=code)
    client = authenticate(staff)

    first = client.get(COMMODITIES, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [c["code"] for c in first["results"]] == ["A1", "B1"]
    assert [c["code"] for c in second["results"]] == ["C1"]


def test_the_list_costs_the_same_queries_whatever_the_page_size(authenticate, staff, units, django_assert_num_queries):
    for n in range(6):
        commodity = CommodityFactory()
        VarietyFactory.create_batch(3, commodity=commodity)
        QualityParameterFactory.create_batch(4, commodity=commodity)
    client = authenticate(staff)
    client.get(COMMODITIES)  # warm caches (content types, permissions) outside the count

    # user, commodities with their units (one join), varieties, parameters
    with django_assert_num_queries(4):
        assert len(client.get(COMMODITIES, {"page_size": 1}).json()["results"]) == 1
    with django_assert_num_queries(4):
        assert len(client.get(COMMODITIES, {"page_size": 50}).json()["results"]) == 6


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # user + page
        ("/api/v1/units/", 2),
        # user + commodity exists + page
        ("/api/v1/commodities/{c}/varieties/", 3),
        ("/api/v1/commodities/{c}/parameters/", 3),
        # + rules with their parameters
        ("/api/v1/commodities/{c}/schedules/", 4),
        # + trade type and unit joined
        ("/api/v1/commodities/{c}/commissions/", 3),
        ("/api/v1/terms/delivery/", 2),
    ],
)
def test_every_list_costs_the_same_queries_whatever_the_page_size(
    authenticate, staff, cotton, url, queries, django_assert_num_queries
):
    from apps.commodities.services.commissions import commission_create
    from apps.commodities.tests.factories import TradeTermFactory, band, exchange_schedule, reject_below

    for _ in range(2):
        exchange_schedule(
            cotton, activate=False, rules=[reject_below("staple_length", "27"), band("trash", "5", "8", "-1")]
        )
    spot = TradeTermFactory(code="SPOT")
    for party in ("BUYER", "SELLER"):
        commission_create(
            actor=None,
            commodity_id=cotton.id,
            trade_type=spot,
            basis="FIXED",
            rate=Decimal("25"),
            unit="BALE",
            applies_to=party,
        )
    TradeTermFactory.create_batch(3, kind="DELIVERY")
    client = authenticate(staff)
    path = url.format(c=cotton.id)
    client.get(path)

    with django_assert_num_queries(queries):
        assert len(client.get(path, {"page_size": 1}).json()["results"]) == 1
    with django_assert_num_queries(queries):
        assert len(client.get(path, {"page_size": 200}).json()["results"]) >= 2


def test_units_are_listed_with_exact_factors(authenticate, partner_user, units):
    body = authenticate(partner_user).get("/api/v1/units/").json()

    assert {u["code"]: u["factor_to_kg"] for u in body["results"]} == {
        "BALE": "170",
        "CANDY": "355.62",
        "KG": "1",
        "LB": "0.45359237",
        "MAUND": "37.3242",
        "MT": "1000",
        "QUINTAL": "100",
    }


# --- writes -----------------------------------------------------------------------------------

NEW_COMMODITY = {
    "code": "KAPAS",
    "name": "Kapas (seed cotton)",
    "category": "RAW",
    "hsn_code": "5201",
    "gst_rate": "5.00",
    "trade_unit": "QUINTAL",
    "rate_unit": "QUINTAL",
}


def test_a_platform_admin_creates_a_commodity_and_its_event_is_emitted(authenticate, platform_admin, units):
    response = authenticate(platform_admin).post(COMMODITIES, NEW_COMMODITY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["base_unit"], body["trade_unit"], body["varieties"]) == ("KAPAS", "KG", "QUINTAL", [])
    [event] = events("commodities.commodity.created")
    assert (event.aggregate_id, event.organization_id, event.actor_id) == (body["id"], None, platform_admin.id)
    assert event.payload == {
        "code": "KAPAS",
        "name": "Kapas (seed cotton)",
        "category": "RAW",
        "hsn_code": "5201",
        "gst_rate": "5",
        "is_active": True,
    }


def test_an_update_emits_what_changed_and_a_no_op_emits_nothing(authenticate, platform_admin, cotton):
    client = authenticate(platform_admin)

    response = client.patch(f"{COMMODITIES}{cotton.id}/", {"gst_rate": "12", "trade_unit": "MT"}, format="json")
    client.patch(f"{COMMODITIES}{cotton.id}/", {"gst_rate": "12.00"}, format="json")

    assert response.status_code == 200
    assert (response.json()["gst_rate"], response.json()["trade_unit"]) == ("12", "MT")
    [event] = events("commodities.commodity.updated")
    assert event.payload["changed"] == {"gst_rate": ["5", "12"], "trade_unit": ["BALE", "MT"]}


def test_deactivating_a_commodity_is_an_update(authenticate, platform_admin, cotton):
    response = authenticate(platform_admin).patch(f"{COMMODITIES}{cotton.id}/", {"is_active": False}, format="json")

    assert response.json()["is_active"] is False
    assert events("commodities.commodity.updated")[0].payload["changed"] == {"is_active": [True, False]}


@pytest.mark.parametrize(
    ("change", "attr", "code"),
    [
        ({"code": "cotton"}, "code", "invalid"),
        ({"hsn_code": "52"}, "hsn_code", "invalid"),
        ({"gst_rate": "101"}, "gst_rate", "max_value"),
        ({"trade_unit": "TOLA"}, "trade_unit", "unknown_unit"),
        ({"base_unit": "BALE"}, "base_unit", "invalid"),
    ],
)
def test_invalid_commodities_are_400_field_errors_and_nothing_is_written(
    authenticate, platform_admin, units, change, attr, code
):
    response = authenticate(platform_admin).post(COMMODITIES, {**NEW_COMMODITY, **change}, format="json")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]
    assert not Commodity.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_a_duplicate_code_or_name_is_a_409(authenticate, platform_admin, cotton):
    client = authenticate(platform_admin)

    same_code = client.post(COMMODITIES, {**NEW_COMMODITY, "code": "COTTON"}, format="json")
    same_name = client.post(COMMODITIES, {**NEW_COMMODITY, "name": cotton.name.upper()}, format="json")

    assert (same_code.status_code, same_code.json()["code"]) == (409, "master_data_duplicate")
    assert same_code.json()["errors"][0]["attr"] == "code"
    assert (same_name.status_code, same_name.json()["errors"][0]["detail"]) == (
        409,
        "A commodity with this name already exists.",
    )


# --- varieties --------------------------------------------------------------------------------


def test_varieties_are_listed_created_and_updated(authenticate, platform_admin, cotton):
    client = authenticate(platform_admin)
    url = f"{COMMODITIES}{cotton.id}/varieties/"

    created = client.post(url, {"code": "MCU-5", "name": "MCU-5"}, format="json")
    updated = client.patch(f"{url}{created.json()['id']}/", {"description": "Long staple"}, format="json")
    listed = client.get(url).json()["results"]

    assert created.status_code == 201
    assert updated.json()["description"] == "Long staple"
    assert [v["code"] for v in listed] == ["DCH-32", "MCU-5", "SHANKAR-6"]
    assert [e.type for e in OutboxEvent.objects.order_by("position")] == [
        "commodities.variety.created",
        "commodities.variety.updated",
    ]
    assert events("commodities.variety.created")[0].payload == {
        "commodity_id": str(cotton.id),
        "code": "MCU-5",
        "name": "MCU-5",
        "is_active": True,
    }


def test_a_variety_name_is_unique_per_commodity_only(authenticate, platform_admin, cotton, units):
    other = CommodityFactory()
    client = authenticate(platform_admin)

    clash = client.post(f"{COMMODITIES}{cotton.id}/varieties/", {"code": "S6", "name": "shankar-6"}, format="json")
    elsewhere = client.post(f"{COMMODITIES}{other.id}/varieties/", {"code": "S6", "name": "Shankar-6"}, format="json")

    assert (clash.status_code, clash.json()["code"]) == (409, "master_data_duplicate")
    assert elsewhere.status_code == 201


def test_a_variety_of_another_commodity_is_not_found(authenticate, platform_admin, cotton, units):
    other_variety = VarietyFactory()

    response = authenticate(platform_admin).patch(
        f"{COMMODITIES}{cotton.id}/varieties/{other_variety.id}/", {"name": "X"}, format="json"
    )

    assert response.status_code == 404
    assert Variety.objects.get(pk=other_variety.pk).name != "X"


# --- parameters -------------------------------------------------------------------------------


def test_parameters_are_created_and_changed_with_one_event_type(authenticate, platform_admin, cotton):
    client = authenticate(platform_admin)
    url = f"{COMMODITIES}{cotton.id}/parameters/"

    numeric = client.post(
        url,
        {
            "code": "short_fibre",
            "name": "Short fibre index",
            "kind": "NUMERIC",
            "unit": "%",
            "min_value": "0",
            "max_value": "20",
            "order": 95,
        },
        format="json",
    )
    grade = client.post(
        url,
        {"code": "leaf_grade", "name": "Leaf grade", "kind": "GRADE", "allowed_values": ["1", "2", "3"]},
        format="json",
    )
    changed = client.patch(f"{url}{numeric.json()['id']}/", {"max_value": "25", "is_mandatory": True}, format="json")

    assert (numeric.status_code, grade.status_code, changed.status_code) == (201, 201, 200)
    assert (changed.json()["max_value"], changed.json()["is_mandatory"]) == ("25", True)
    payloads = [e.payload for e in events("commodities.parameter.changed")]
    assert [(p["code"], p["change"]) for p in payloads] == [
        ("short_fibre", "created"),
        ("leaf_grade", "created"),
        ("short_fibre", "updated"),
    ]
    assert payloads[2]["changed"] == {"max_value": ["20", "25"], "is_mandatory": [False, True]}


def test_parameters_are_listed_in_display_order(authenticate, staff, cotton):
    body = authenticate(staff).get(f"{COMMODITIES}{cotton.id}/parameters/", {"page_size": 3}).json()

    assert [p["code"] for p in body["results"]] == ["staple_length", "micronaire", "strength"]
    assert body["next"] is not None


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"code": "Staple", "kind": "NUMERIC"}, "code", "invalid"),
        ({"code": "grade_x", "kind": "GRADE"}, "allowed_values", "invalid"),
        ({"code": "grade_x", "kind": "GRADE", "allowed_values": ["A"], "min_value": "1"}, "min_value", "invalid"),
        ({"code": "num_x", "kind": "NUMERIC", "allowed_values": ["A"]}, "allowed_values", "invalid"),
        ({"code": "num_x", "kind": "NUMERIC", "min_value": "5", "max_value": "1"}, "max_value", "invalid"),
        ({"code": "staple_length", "kind": "NUMERIC"}, "code", "unique_together"),
    ],
)
def test_invalid_parameters_are_refused(authenticate, platform_admin, cotton, payload, attr, code):
    before = QualityParameter.objects.count()

    response = authenticate(platform_admin).post(
        f"{COMMODITIES}{cotton.id}/parameters/", {"name": "X", **payload}, format="json"
    )

    assert response.status_code in (400, 409)
    assert (attr, code) in [(e["attr"], e["code"]) for e in response.json()["errors"]]
    assert QualityParameter.objects.count() == before


def test_a_parameter_keeps_its_code_and_kind(cotton):
    from apps.commodities.errors import ParameterImmutable
    from apps.commodities.services.parameters import parameter_update

    staple = cotton.parameters.get(code="staple_length")

    with pytest.raises(ParameterImmutable) as refused:
        parameter_update(actor=None, commodity_id=cotton.id, parameter_id=staple.id, kind="GRADE")

    assert refused.value.status == 409

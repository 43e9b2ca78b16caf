"""Who may write the global masters: the platform admin role (and superusers). Every other
caller is refused (401 anonymous, 403 signed in) and nothing changes: no row, no event.
Reads are open to every signed-in user, partner users included."""

from __future__ import annotations

import pytest
from django.apps import apps

from apps.accounts.tests.factories import SuperAdminFactory
from apps.commodities.services.commissions import commission_create
from apps.commodities.tests.factories import TradeTermFactory, exchange_schedule, reject_above
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

RULES = [{"parameter": "trash", "kind": "REJECT_ABOVE", "upper": "5"}]


@pytest.fixture
def world(cotton):
    """One of everything, to change."""
    draft = exchange_schedule(cotton, activate=False, rules=[reject_above("trash", "5.0")])
    spot = TradeTermFactory(kind="TRADE_TYPE", code="SPOT")
    TradeTermFactory(kind="TRADE_TYPE", code="FORWARD")
    delivery = TradeTermFactory(kind="DELIVERY", code="EX_GIN")
    commission = commission_create(
        actor=None, commodity_id=cotton.id, trade_type=spot, basis="PERCENTAGE", rate=1, applies_to="BUYER"
    )
    return {
        "c": cotton.id,
        "v": cotton.varieties.first().id,
        "p": cotton.parameters.first().id,
        "s": draft.id,
        "t": delivery.id,
        "m": commission.id,
    }


# (method, path, body, success status)
WRITES = {
    "commodity create": (
        "post",
        "/api/v1/commodities/",
        {
            "code": "KAPAS",
            "name": "Kapas",
            "category": "RAW",
            "hsn_code": "5201",
            "gst_rate": "5",
            "trade_unit": "QUINTAL",
            "rate_unit": "QUINTAL",
        },
        201,
    ),
    "commodity update": ("patch", "/api/v1/commodities/{c}/", {"gst_rate": "12"}, 200),
    "variety create": ("post", "/api/v1/commodities/{c}/varieties/", {"code": "SUVIN", "name": "Suvin"}, 201),
    "variety update": ("patch", "/api/v1/commodities/{c}/varieties/{v}/", {"is_active": False}, 200),
    "parameter create": (
        "post",
        "/api/v1/commodities/{c}/parameters/",
        {"code": "neps", "name": "Neps", "kind": "NUMERIC", "min_value": "0", "max_value": "500"},
        201,
    ),
    "parameter update": ("patch", "/api/v1/commodities/{c}/parameters/{p}/", {"name": "Staple (mm)"}, 200),
    "schedule create": (
        "post",
        "/api/v1/commodities/{c}/schedules/",
        {"name": "v2", "effective_from": "2027-04-01", "rules": RULES},
        201,
    ),
    "schedule activate": ("post", "/api/v1/commodities/{c}/schedules/{s}/activate", None, 200),
    "terms create": ("post", "/api/v1/terms/delivery/", {"code": "EX_WAREHOUSE", "name": "Ex warehouse"}, 201),
    "terms update": ("patch", "/api/v1/terms/delivery/{t}/", {"name": "Ex gin (factory)"}, 200),
    "terms deactivate": ("post", "/api/v1/terms/delivery/{t}/deactivate", None, 200),
    "commission create": (
        "post",
        "/api/v1/commodities/{c}/commissions/",
        {"trade_type": "FORWARD", "basis": "FIXED", "rate": "25", "unit": "BALE", "applies_to": "BOTH"},
        201,
    ),
    "commission update": ("patch", "/api/v1/commodities/{c}/commissions/{m}/", {"rate": "0.75"}, 200),
}

MODELS = [
    "Unit",
    "Commodity",
    "Variety",
    "QualityParameter",
    "QualitySchedule",
    "ScheduleRule",
    "TradeTerm",
    "CommissionStructure",
]


def snapshot() -> dict[str, object]:
    """Every row of the app (id and last change) and the events: what 'nothing changed' means."""
    state: dict[str, object] = {
        name: sorted(apps.get_model("commodities", name).objects.values_list("id", "updated_at")) for name in MODELS
    }
    state["events"] = OutboxEvent.objects.count()
    return state


def call(client, write, ids):
    method, path, body, _ = WRITES[write]
    return getattr(client, method)(path.format(**ids), body, format="json")


REFUSED = {"anonymous": 401, "partner_user": 403, "staff": 403, "organization_admin": 403}


@pytest.mark.parametrize("write", WRITES)
def test_only_the_capability_may_write_and_a_refusal_changes_nothing(request, api_client, world, write):
    from apps.accounts.tokens import issue_tokens

    before = snapshot()

    for who, status in REFUSED.items():
        api_client.credentials()
        if who != "anonymous":
            api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(request.getfixturevalue(who)).access}")
        response = call(api_client, write, world)

        assert response.status_code == status, who
        if status == 403:
            assert response.json()["code"] == "permission_denied"
        assert snapshot() == before, who


@pytest.mark.parametrize("write", WRITES)
def test_the_platform_admin_role_may_write(authenticate, platform_admin, world, write):
    events = OutboxEvent.objects.count()

    response = call(authenticate(platform_admin), write, world)

    assert response.status_code == WRITES[write][3], response.json()
    assert OutboxEvent.objects.count() == events + 1
    assert OutboxEvent.objects.order_by("-position").first().actor_id == platform_admin.id


def test_a_superuser_may_make_every_write(authenticate, world):
    client = authenticate(SuperAdminFactory())

    statuses = {write: call(client, write, world).status_code for write in WRITES}

    assert statuses == {write: spec[3] for write, spec in WRITES.items()}


READS = [
    "/api/v1/units/",
    "/api/v1/commodities/",
    "/api/v1/commodities/{c}/",
    "/api/v1/commodities/{c}/varieties/",
    "/api/v1/commodities/{c}/varieties/{v}/",
    "/api/v1/commodities/{c}/parameters/",
    "/api/v1/commodities/{c}/parameters/{p}/",
    "/api/v1/commodities/{c}/schedules/",
    "/api/v1/commodities/{c}/schedules/{s}/",
    "/api/v1/commodities/{c}/commissions/",
    "/api/v1/commodities/{c}/commissions/{m}/",
    "/api/v1/terms/delivery/",
    "/api/v1/terms/delivery/{t}/",
]


def test_every_signed_in_user_may_read(authenticate, partner_user, world):
    client = authenticate(partner_user)

    assert {path: client.get(path.format(**world)).status_code for path in READS} == dict.fromkeys(READS, 200)

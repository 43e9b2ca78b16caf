"""Issue 15 on the market and the back office's search: the quality filter's SQL function answers
what the Python reading of the same values answers (nulls, grades, rounding), commodity codes
filter as their ids, every NUMERIC parameter code carries planner statistics that follow the
parameters, the web's connections run without JIT, and the posting search still finds by
number, partner code and partner name, inside the staff member's organization only."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from apps.commodities.models import ParameterKind, QualityParameter
from apps.core.tests.clients import staff_client
from apps.tradedesk.quality_statistics import existing_codes, sync_quality_statistics
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

AVAILABILITIES = "/api/v1/market/availabilities/"


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# The values a quality key may hold, and whether 29 <= value <= 30 by the Python reading (a plain
# decimal, rounded to 8 places as the former numeric(24, 8) cast did; anything else is no value).
STAPLES = {
    "29": True,
    "29.5": True,
    "30": True,
    "30.000000001": True,  # rounds to 30.00000000
    "30.00000001": False,
    "28.99999999": False,
    "-29": False,
    "long": False,  # not a number: no value, not an error
    "29.5mm": False,
    "": False,
    None: False,  # the key is absent
}


def _python_in_range(raw: str | None, low: Decimal, high: Decimal) -> bool:
    if raw is None or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", raw):
        return False
    return low <= round(Decimal(raw), 8) <= high


def test_the_quality_range_filter_answers_as_python_reads_the_values(authenticate, seller, buyer, cotton):
    made = {}
    for raw in STAPLES:
        quality = {"micronaire": "4.1"} if raw is None else {"staple_length": raw, "micronaire": "4.1"}
        made[raw] = str(factories.availability(seller, cotton, quality=quality).pk)

    response = authenticate(buyer.owner).get(
        AVAILABILITIES, {"quality.staple_length.min": "29", "quality.staple_length.max": "30", "page_size": 50}
    )

    expected = {made[raw] for raw in STAPLES if _python_in_range(raw, Decimal(29), Decimal(30))}
    assert expected == {made[raw] for raw, inside in STAPLES.items() if inside}
    assert _ids(response) == expected


def test_a_commodity_code_filters_as_its_id(authenticate, seller, buyer, cotton):
    from apps.commodities.tests.factories import cotton as build_cotton

    kapas = build_cotton("KAPAS")
    ours = {str(factories.availability(seller, cotton).pk) for _ in range(2)}
    factories.availability(seller, kapas)
    client = authenticate(buyer.owner)

    by_code = _ids(client.get(AVAILABILITIES, {"commodity": "cotton"}))
    by_id = _ids(client.get(AVAILABILITIES, {"commodity": str(cotton.pk)}))
    unknown = _ids(client.get(AVAILABILITIES, {"commodity": "JUTE"}))
    variety = _ids(client.get(AVAILABILITIES, {"variety": "SHANKAR-6"}))

    assert by_code == by_id == ours
    assert unknown == set()
    assert variety == set()  # the factory's offers carry no variety


def test_every_active_numeric_parameter_code_has_statistics_that_follow_the_parameters(cotton):
    numeric = set(
        QualityParameter.objects.filter(kind=ParameterKind.NUMERIC, is_active=True).values_list("code", flat=True)
    )
    assert numeric  # cotton's staple_length, micronaire, ...

    first = sync_quality_statistics()
    again = sync_quality_statistics()
    assert set(first["created"]) == numeric
    assert first["dropped"] == []
    assert again == {"created": [], "dropped": []}
    assert existing_codes() == numeric

    QualityParameter.objects.filter(code="micronaire").update(is_active=False)
    assert sync_quality_statistics() == {"created": [], "dropped": ["micronaire"]}
    assert existing_codes() == numeric - {"micronaire"}


def test_the_planner_estimates_a_quality_range_from_the_statistics(seller, cotton):
    from apps.tradedesk.models import Availability

    for n in range(200):
        factories.availability(seller, cotton, quality={"staple_length": "29.5" if n % 4 else "27"})
    sync_quality_statistics()  # and ANALYZE
    sql = (
        "EXPLAIN (FORMAT JSON) SELECT id FROM tradedesk_availability "
        "WHERE tradedesk_quality_number(quality, 'staple_length') >= 29"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        (plan,) = cursor.fetchone()
    estimated = (plan[0] if isinstance(plan, list) else json.loads(plan)[0])["Plan"]["Plan Rows"]
    actual = sum(1 for q in Availability.objects.values_list("quality", flat=True) if q.get("staple_length") == "29.5")

    assert actual == 150
    assert 100 <= estimated <= 200  # without the statistics: a fixed guess of a third of the rows


def test_the_web_connections_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


# --- the back office's posting search -------------------------------------------------------------


def _listed(client: Client, q: str) -> set[str]:
    response = client.get("/admin/tradedesk/availability/", {"q": q})
    assert response.status_code == 200
    return {str(obj.pk) for obj in response.context["cl"].result_list}


def test_the_posting_search_finds_by_number_partner_code_and_name_in_the_organization_only(
    seller, buyer, cotton, desk_manager, foreign_partner
):
    mine = factories.availability(seller, cotton, number="AV/2026-27/000123")
    other = factories.availability(buyer, cotton, number="AV/2026-27/000456")
    foreign = factories.availability(foreign_partner, cotton, number="AV/2026-27/000123")
    client = staff_client(desk_manager)

    assert _listed(client, "000123") == {str(mine.pk)}
    assert _listed(client, "av/2026") == {str(mine.pk), str(other.pk)}
    assert _listed(client, seller.code.lower()) == {str(mine.pk)}
    assert _listed(client, "rajkot ginning") == {str(mine.pk)}  # every word matches somewhere
    assert _listed(client, '"Rajkot Ginning"') == {str(mine.pk)}  # a quoted phrase
    assert _listed(client, "rajkot 000456") == set()
    assert str(foreign.pk) not in _listed(client, foreign_partner.code)
    assert str(foreign.pk) not in _listed(client, "000123")


def test_a_parameter_created_by_its_service_gets_statistics_from_the_event_handler(cotton):
    from apps.accounts.tests.factories import SuperAdminFactory
    from apps.commodities.services.parameters import parameter_create
    from apps.events.envelope import EventEnvelope
    from apps.events.models import OutboxEvent
    from apps.events.registry import handlers_for

    sync_quality_statistics()
    parameter_create(
        actor=SuperAdminFactory(), commodity_id=cotton.pk, code="neps", name="Neps", kind=ParameterKind.NUMERIC
    )
    event = OutboxEvent.objects.filter(type="commodities.parameter.changed").latest("position")
    (handler,) = [h for h in handlers_for(event.type) if h.name == "tradedesk.quality_statistics"]

    assert "neps" not in existing_codes()
    handler.fn(EventEnvelope.from_row(event))
    assert "neps" in existing_codes()

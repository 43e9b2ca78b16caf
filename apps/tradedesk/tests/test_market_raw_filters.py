"""Filtered availability pages read by the hand-written statement (market.MarketAvailabilityPage
with filters, issue 15) answer exactly what the ORM's
market_availability_rows(filter_market_availabilities(market_availabilities(viewer), filters))
answers for the same data: every filter the API accepts (commodity and variety by id and by code,
price bounds, state, region, minimum available, quality ranges and grades), alone, in pairs and
all at once; for partner, staff and platform viewers; with nulls (no variety, a quality value
absent, null, a grade where a number is filtered, not a plain decimal), in three time zones, both
orderings, cursor bounds and offsets, and whole cursor walks through the API. Each row's JSON,
written by PostgreSQL, is held byte for byte equal to what DRF writes for the ORM's rows."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.commodities.models import TermKind
from apps.commodities.tests.factories import TradeTermFactory
from apps.commodities.tests.factories import cotton as build_commodity
from apps.partners.models import BusinessPartner
from apps.partners.tests import factories as partner_factories
from apps.tradedesk import market
from apps.tradedesk.api.market import availability_rows
from apps.tradedesk.models import Availability, AvailabilityStatus, Visibility
from apps.tradedesk.tests import factories
from apps.tradedesk.tests.market_json import assert_same_page, documented_json, page_json

pytestmark = pytest.mark.django_db

ORDERINGS = [("-created_at", "-id"), ("created_at", "id")]
WINDOWS = (slice(0, 51), slice(0, 2), slice(1, 4))

# Quality values of every shape the statement must read as the ORM does.
QUALITIES = [
    {"staple_length": "29.5", "micronaire": "4.1", "color_grade": "31-1"},
    {"staple_length": "30", "micronaire": "4.8", "color_grade": "21-1"},
    {"staple_length": "28.0", "micronaire": "3.6"},  # no grade
    {"micronaire": "4.2", "color_grade": "31-1"},  # no staple length
    {"staple_length": None, "micronaire": "4.5", "color_grade": None},  # JSON nulls
    {"staple_length": "31-1", "micronaire": "4.0", "color_grade": "31-1"},  # not a plain decimal
    {"staple_length": "29.000000004", "micronaire": "4.5", "color_grade": "41-2"},  # rounds to 29
    {},
]


@pytest.fixture
def postings(organization, seller, buyer, cotton, foreign_partner) -> list[Availability]:
    """A mixed market of two commodities: every visibility, invited and not, every filtered
    column varied, nulls and values, some postings not listed at all."""
    BusinessPartner.objects.filter(pk=seller.pk).update(risk_category="LOW")
    third = partner_factories.approved_partner(organization, legal_name="Kadi Cotton Industries")
    kapas = build_commodity("KAPAS")
    varieties = [None, cotton.varieties.get(code="SHANKAR-6"), kapas.varieties.get(code="SHANKAR-6")]
    varieties.append(cotton.varieties.get(code="DCH-32"))
    delivery = TradeTermFactory(kind=TermKind.DELIVERY, code="EX_GIN")
    places = [("GJ", "WEST"), ("MH", "WEST"), ("TN", "SOUTH")]
    now = timezone.now()
    rows = []
    for n in range(24):
        variety = varieties[n % 4]
        state, region = places[n % 3]
        posted = factories.availability(
            seller if n % 5 else third,
            variety.commodity if variety is not None else (kapas if n % 8 == 4 else cotton),
            variety=variety,
            delivery_term=delivery if n % 4 == 1 else None,
            visibility=[Visibility.PUBLIC, Visibility.RESTRICTED, Visibility.PRIVATE, Visibility.PUBLIC][n % 4],
            kg=Decimal("15000.125") + 500 * (n % 7),
            price_per_kg=Decimal("158.5") + Decimal("2.25") * (n % 9),
            quality=QUALITIES[n % len(QUALITIES)],
            state_code=state,
            region=region,
        )
        if n % 4 == 1 and n % 8 == 1:
            posted.invited_partners.set([buyer])
        rows.append(posted)
    # Ties on created_at (the cursor then pages them by offset).
    Availability.objects.filter(pk__in=[rows[4].pk, rows[5].pk, rows[8].pk]).update(
        created_at=now - timedelta(minutes=3)
    )
    factories.availability(buyer, cotton, quality=QUALITIES[0])  # the buyer's own: not on its market
    factories.availability(seller, cotton, available_kg=Decimal("0"), reserved_kg=Decimal("17000"))
    factories.availability(seller, cotton, status=AvailabilityStatus.DRAFT, quality=QUALITIES[0])
    factories.availability(seller, cotton, expires_at=now - timedelta(minutes=1), quality=QUALITIES[0])
    factories.availability(foreign_partner, cotton, quality=QUALITIES[0])
    return rows


def _viewers(organization: Any, buyer: Any) -> list[market.MarketViewer]:
    return [
        market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk),
        market.MarketViewer(organization_id=organization.pk, partner_id=None),
        market.MarketViewer(organization_id=None, partner_id=None),
    ]


def _single_filters(cotton: Any) -> list[market.MarketFilters]:
    """Each filter the availability API accepts, alone (the shapes its input gives)."""
    q = market.QualityFilter
    shankar = cotton.varieties.get(code="SHANKAR-6")
    return [
        market.MarketFilters(commodity="COTTON"),
        market.MarketFilters(commodity="KAPAS"),
        market.MarketFilters(commodity=str(cotton.pk)),
        market.MarketFilters(commodity=str(cotton.pk).replace("-", "")),
        market.MarketFilters(commodity="NOSUCH"),
        market.MarketFilters(variety="SHANKAR-6"),  # the code names a variety of each commodity
        market.MarketFilters(variety=str(shankar.pk)),
        market.MarketFilters(price_per_kg_min=Decimal("163")),
        market.MarketFilters(price_per_kg_max=Decimal("165.0000")),
        market.MarketFilters(state_code="MH"),
        market.MarketFilters(region="WEST"),
        market.MarketFilters(min_available_kg=Decimal("16500.125")),
        market.MarketFilters(quality=[q("staple_length", minimum=Decimal("29"), maximum=Decimal("30"))]),
        market.MarketFilters(quality=[q("staple_length", minimum=Decimal("29.5"))]),
        market.MarketFilters(quality=[q("micronaire", maximum=Decimal("4.5"))]),
        market.MarketFilters(quality=[q("color_grade", grade="31-1")]),
        market.MarketFilters(
            quality=[q("staple_length", maximum=Decimal("30")), q("micronaire", minimum=Decimal("4.0"))]
        ),
    ]


def _combined(one: market.MarketFilters, other: market.MarketFilters) -> market.MarketFilters:
    changes = {
        name: value
        for name, value in vars(other).items()
        if name != "quality" and value is not None and getattr(one, name) is None
    }
    return replace(one, **changes, quality=[*one.quality, *other.quality])


def _every_combination(cotton: Any) -> list[market.MarketFilters]:
    singles = _single_filters(cotton)
    pairs = [_combined(a, b) for a, b in itertools.combinations(singles, 2)]
    everything = market.MarketFilters(
        commodity="COTTON",
        variety="SHANKAR-6",
        price_per_kg_min=Decimal("158"),
        price_per_kg_max=Decimal("180"),
        state_code="GJ",
        region="WEST",
        min_available_kg=Decimal("15000"),
        quality=[
            market.QualityFilter("staple_length", minimum=Decimal("28"), maximum=Decimal("31")),
            market.QualityFilter("color_grade", grade="31-1"),
        ],
    )
    return [*singles, *pairs, everything]


def _orm(viewer: market.MarketViewer, filters: market.MarketFilters, now: Any) -> Any:
    rows = market.filter_market_availabilities(market.market_availabilities(viewer, now=now), filters)
    return market.market_availability_rows(rows)


def test_every_filter_alone_in_pairs_and_together_equals_the_orm_for_every_viewer(
    postings, organization, buyer, cotton
):
    now = timezone.now()
    combinations = _every_combination(cotton)
    matched = set()
    for viewer in _viewers(organization, buyer):
        for filters in combinations:
            orm = _orm(viewer, filters, now)
            raw = market.MarketAvailabilityPage(viewer, filters=filters, now=now)
            for ordering in ORDERINGS:
                expected = list(orm.order_by(*ordering)[0:51])
                assert_same_page(raw.order_by(*ordering)[0:51], expected, viewer, filters, ordering)
                matched.add(len(expected))
    # The data makes the filters bite: empty, narrow and wide answers all occur.
    assert {0, 1, 2} <= matched
    assert max(matched) >= 20


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York"])
def test_filtered_raw_pages_equal_the_orm_in_every_zone_ordering_bound_and_window(
    postings, organization, buyer, cotton, zone
):
    now = timezone.now()
    middle = Availability.objects.get(pk=postings[12].pk).created_at
    tied = Availability.objects.get(pk=postings[4].pk).created_at
    positions = [str(middle), str(tied), middle.astimezone(timezone.get_fixed_timezone(330)).isoformat()]
    positions.append(middle.astimezone(timezone.get_fixed_timezone(-300)).replace(tzinfo=None).isoformat())
    filtered = [
        market.MarketFilters(commodity="COTTON", region="WEST"),
        market.MarketFilters(
            commodity="COTTON",
            price_per_kg_max=Decimal("170"),
            quality=[market.QualityFilter("micronaire", minimum=Decimal("3.6"), maximum=Decimal("4.8"))],
        ),
    ]
    with timezone.override(zone):
        for viewer in _viewers(organization, buyer):
            for filters in filtered:
                orm = _orm(viewer, filters, now)
                raw = market.MarketAvailabilityPage(viewer, filters=filters, now=now)
                for ordering in ORDERINGS:
                    for window in WINDOWS:
                        expected = list(orm.order_by(*ordering)[window])
                        got = raw.order_by(*ordering)[window]
                        assert_same_page(got, expected, viewer, filters, ordering, window)
                        assert page_json(got) == documented_json(viewer, expected, now=now)
                    for position in positions:
                        for lookup in ("created_at__lt", "created_at__gt"):
                            expected = list(orm.order_by(*ordering).filter(**{lookup: position})[0:3])
                            got = raw.order_by(*ordering).filter(**{lookup: position})[0:3]
                            assert_same_page(got, expected, viewer, filters, ordering, lookup, position)


@pytest.mark.parametrize("who", ["partner", "staff"])
def test_a_filtered_cursor_walk_through_the_api_pages_as_the_orm_does(
    authenticate, postings, organization, buyer, desk_manager, who
):
    viewer = market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk if who == "partner" else None)
    client = authenticate(buyer.owner if who == "partner" else desk_manager)
    query = (
        "commodity=cotton&variety=shankar-6&region=WEST&price_per_kg_min=158&price_per_kg_max=176"
        "&min_available_kg=15000&quality.staple_length.min=28&quality.staple_length.max=30.5"
        "&quality.micronaire.max=4.8"
    )
    filters = market.MarketFilters(
        commodity="COTTON",
        variety="SHANKAR-6",
        region="WEST",
        price_per_kg_min=Decimal("158"),
        price_per_kg_max=Decimal("176"),
        min_available_kg=Decimal("15000"),
        quality=[
            market.QualityFilter("micronaire", maximum=Decimal("4.8")),
            market.QualityFilter("staple_length", minimum=Decimal("28"), maximum=Decimal("30.5")),
        ],
    )
    all_rows = availability_rows(list(_orm(viewer, market.MarketFilters(), None).order_by("-created_at", "-id")))
    expected = availability_rows(list(_orm(viewer, filters, None).order_by("-created_at", "-id")))

    seen, url = [], f"/api/v1/market/availabilities/?page_size=1&{query}"
    while url:
        body = client.get(url).json()
        seen.extend(body["results"])
        url = body["next"]
    last_page, back, url = body["results"], [], body["previous"]
    while url:
        body = client.get(url).json()
        back = body["results"] + back
        url = body["previous"]

    assert 2 <= len(expected) < len(all_rows)  # a walk of several pages, filtered
    assert seen == expected
    assert back == expected[: len(expected) - len(last_page)]


def test_filter_values_are_parameters_not_sql(postings, organization, buyer):
    viewer = market.MarketViewer(organization_id=organization.pk, partner_id=None)
    hostile = [
        market.MarketFilters(commodity="COTTON' OR '1'='1"),
        market.MarketFilters(variety="X') OR ('1'='1"),
        market.MarketFilters(quality=[market.QualityFilter("color_grade", grade="31-1' OR '1'='1")]),
    ]
    for filters in hostile:
        assert market.MarketAvailabilityPage(viewer, filters=filters).order_by("-created_at", "-id")[0:51] == []
    with pytest.raises(ValueError, match="Not a quality parameter code"):
        market.MarketAvailabilityPage(viewer, filters=market.MarketFilters(quality=[market.QualityFilter("a') OR (1")]))


def test_requirement_filters_are_refused_by_the_availability_statement(organization):
    viewer = market.MarketViewer(organization_id=organization.pk, partner_id=None)
    for filters in (market.MarketFilters(quantity_kg=Decimal("1")), market.MarketFilters(urgency="HIGH")):
        with pytest.raises(ValueError, match="filter requirements"):
            market.MarketAvailabilityPage(viewer, filters=filters)


def _orm_parameter_kinds(codes: list[str], commodity: str | None) -> dict[str, set[str]]:
    """The reference: the ORM queryset parse_quality_filters used before the statement."""
    from apps.commodities.models import QualityParameter

    parameters = QualityParameter.objects.filter(code__in=codes, is_active=True)
    if commodity is not None:
        parameters = parameters.filter(
            **({"commodity_id": commodity} if market._is_uuid(commodity) else {"commodity__code": commodity})
        )
    kinds: dict[str, set[str]] = {}
    for code, kind in parameters.values_list("code", "kind"):
        kinds.setdefault(code, set()).add(kind)
    return kinds


def test_the_quality_parameter_check_reads_what_the_orm_reads(cotton):
    """Both commodities with their parameters, one deactivated, one of a kind the other lacks;
    asked by id, by code, by an unknown commodity and for any commodity, for known, unknown and
    mixed codes."""
    from apps.commodities.models import ParameterKind, QualityParameter

    kapas = build_commodity("KAPAS")
    QualityParameter.objects.filter(commodity=kapas, code="micronaire").update(is_active=False)
    QualityParameter.objects.filter(commodity=kapas, code="color_grade").update(kind=ParameterKind.NUMERIC)
    codes_asked = [
        ["staple_length"],
        ["micronaire"],
        ["color_grade"],
        ["staple_length", "micronaire", "color_grade", "trash"],
        ["no_such_parameter"],
        [],
    ]
    commodities = [
        None,
        "COTTON",
        "KAPAS",
        "NO_SUCH",
        str(cotton.pk),
        str(kapas.pk),
        "00000000-0000-0000-0000-000000000000",
    ]
    seen_both_kinds = False
    for codes, commodity in itertools.product(codes_asked, commodities):
        expected = _orm_parameter_kinds(codes, commodity)
        assert market.quality_parameter_kinds(codes, commodity=commodity) == expected, (codes, commodity)
        if codes:  # the page statement's column (QualityCheck) reads the same
            params: dict[str, Any] = {}
            check = market.QualityCheck(wanted={code: [] for code in codes}, commodity=commodity)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {check.sql(params)}", params)
                (text,) = cursor.fetchone()
            assert market._kinds(json.loads(text) if text else []) == expected, (codes, commodity)
        seen_both_kinds |= expected.get("color_grade") == {ParameterKind.GRADE, ParameterKind.NUMERIC}
    # The data is what the comparison needs: a code of two kinds across commodities, a code only
    # one commodity has active.
    assert seen_both_kinds
    assert _orm_parameter_kinds(["micronaire"], "KAPAS") == {}
    assert _orm_parameter_kinds(["micronaire"], "COTTON") == {"micronaire": {ParameterKind.NUMERIC}}


# Requests with bad quality filters, alone and mixed with good ones and with each other: the
# page's statement checks the parameters' kinds (QualityCheck) and must refuse each request with
# the error parse_quality_filters gives for it (the first in key order), on a market with rows
# and on one whose page is empty.
BAD_QUALITY_REQUESTS = [
    {"quality.fineness.min": "3"},
    {"quality.color_grade.min": "3"},
    {"quality.staple_length": "28"},
    {"quality.staple_length.min": "long"},
    {"quality.staple_length.min": "30", "quality.staple_length.max": "29"},
    {"quality.staple_length.min": "28", "quality.fineness.min": "1"},  # a good one, an unknown one
    {"quality.fineness.min": "x", "quality.staple_length.min": "long"},  # unknown before a bad value
    {"quality.micronaire.min": "long", "quality.zz_unknown.min": "1"},  # a bad value before unknown
    {"quality.staple_length.min": "31", "quality.staple_length.max": "29", "quality.zz.min": "1"},
    {"quality.aa": "x", "quality.staple_length.min": "31", "quality.staple_length.max": "29"},
    {"quality.color_grade": "31-1", "quality.micronaire": "4"},  # a grade, a number asked as a grade
    {"quality.color_grade": "\x00"},  # a NUL, which PostgreSQL's text cannot hold (was a 500)
]


def _expected_error(params: dict[str, str], commodity: str | None) -> tuple[str, str]:
    from apps.organizations.errors import FieldInvalid

    with pytest.raises(FieldInvalid) as refused:
        market.parse_quality_filters(params, commodity=commodity)
    return refused.value.attr, refused.value.reason


@pytest.mark.parametrize("with_rows", [True, False], ids=["rows", "empty"])
@pytest.mark.parametrize("commodity", [None, "COTTON"])
@pytest.mark.parametrize("params", BAD_QUALITY_REQUESTS)
def test_bad_quality_filters_are_refused_as_parse_quality_filters_refuses_them(
    authenticate, seller, buyer, cotton, params, commodity, with_rows
):
    if with_rows:
        for quality in QUALITIES[:3]:
            posted = factories.availability(seller, cotton)
            Availability.objects.filter(pk=posted.pk).update(quality=quality)
    expected = _expected_error(params, commodity)
    query = {**params, **({"commodity": commodity} if commodity else {})}

    response = authenticate(buyer.owner).get("/api/v1/market/availabilities/", query)

    body = response.json()
    assert response.status_code == 400, body
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [expected]


@pytest.mark.caller_cache  # the caller resolved once, so the page is the request's only query
def test_good_quality_filters_are_checked_by_the_page_statement_in_one_round_trip(authenticate, seller, buyer, cotton):
    from django.test.utils import CaptureQueriesContext

    for quality in QUALITIES:
        posted = factories.availability(seller, cotton)
        Availability.objects.filter(pk=posted.pk).update(quality=quality)
    client = authenticate(buyer.owner)
    params = {"commodity": "COTTON", "quality.staple_length.min": "29", "quality.color_grade": "31-1"}
    client.get("/api/v1/market/availabilities/")  # the caller is resolved (and cached)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/market/availabilities/", params)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1  # 29.5 and 31-1 (30 is 21-1; 28.0 has no grade)
    (sql,) = [q["sql"] for q in queries.captured_queries]
    name = sql.split("EXECUTE ")[-1].split("(")[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        (text,) = cursor.fetchone()
    assert "FROM commodities_qualityparameter q" in text
    assert "FROM tradedesk_availability" in text.replace('"', "")


@pytest.mark.parametrize(
    ("params", "quality", "attr"),
    [
        # A NUMERIC parameter asked for as a grade: the grade filter matches the text "4".
        ({"quality.micronaire": "4"}, {"micronaire": "4"}, "quality.micronaire"),
        # A parameter deactivated while postings still carry values for it.
        ({"quality.staple_length.min": "28"}, {"staple_length": "29.5"}, "quality.staple_length.min"),
    ],
)
def test_a_page_with_rows_is_refused_when_its_statement_finds_the_parameter_wrong(
    authenticate, seller, buyer, cotton, params, quality, attr
):
    from apps.commodities.models import QualityParameter

    posted = factories.availability(seller, cotton)
    Availability.objects.filter(pk=posted.pk).update(quality=quality)
    if attr == "quality.staple_length.min":
        QualityParameter.objects.filter(commodity=cotton, code="staple_length").update(is_active=False)
    page = market.MarketAvailabilityPage(
        market.MarketViewer(organization_id=buyer.organization_id, partner_id=buyer.pk),
        filters=market.MarketFilters(quality=market.parse_quality_filters_unchecked(params, commodity=None)[0]),
    )
    assert len(page[0:51]) == 1  # the statement finds the row (without the check)
    expected = _expected_error(params, None)

    response = authenticate(buyer.owner).get("/api/v1/market/availabilities/", params)

    body = response.json()
    assert response.status_code == 400, body
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [expected]
    assert expected == (attr, "unknown_parameter")

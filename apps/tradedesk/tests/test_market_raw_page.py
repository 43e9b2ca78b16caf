"""The unfiltered availability market read by one hand-written statement
(market.MarketAvailabilityPage, issue 15) answers exactly what the ORM's
market_availability_rows(market_availabilities(viewer)) answers for the same data: partner, staff
and platform views, nulls (no variety, no delivery term, no risk category), time zones, both
orderings, cursor bounds and offsets, and whole cursor walks through the API. PostgreSQL writes
each row's JSON: held byte for byte equal to what DRF writes for the ORM's rows (availability_rows
and the documented MarketAvailabilityOutput, through the API's renderer), with the cursor
positions the paginator reads, including strings that need escaping, every shape of quality,
instants with and without microseconds, offsets with seconds, daylight saving and fixed zones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.commodities.models import TermKind
from apps.commodities.tests.factories import TradeTermFactory
from apps.core.renderers import OrjsonRenderer
from apps.partners.models import BusinessPartner
from apps.partners.tests import factories as partner_factories
from apps.tradedesk import market
from apps.tradedesk.api.market import availability_rows
from apps.tradedesk.models import Availability, AvailabilityStatus, Visibility
from apps.tradedesk.tests import factories
from apps.tradedesk.tests.market_json import assert_same_page, documented_json, page_json

pytestmark = pytest.mark.django_db

ORDERINGS = [("-created_at", "-id"), ("created_at", "id")]


@pytest.fixture
def postings(organization, seller, buyer, cotton, foreign_partner) -> list[Availability]:
    """A mixed market: every visibility, invited and not, nulls and values, some not listed."""
    BusinessPartner.objects.filter(pk=seller.pk).update(risk_category="HIGH")
    third = partner_factories.approved_partner(organization, legal_name="Kadi Cotton Industries")
    shankar = cotton.varieties.get(code="SHANKAR-6")
    delivery = TradeTermFactory(kind=TermKind.DELIVERY, code="EX_GIN")
    now = timezone.now()
    rows = []
    for n in range(14):
        posted = factories.availability(
            seller if n % 3 else third,
            cotton,
            variety=shankar if n % 2 else None,
            delivery_term=delivery if n % 4 == 1 else None,
            visibility=[Visibility.PUBLIC, Visibility.RESTRICTED, Visibility.PRIVATE][n % 3],
            kg=Decimal("17000.125") + n,
            price_per_kg=Decimal("168.71945") + n,
        )
        if n % 6 == 1:
            posted.invited_partners.set([buyer])
        rows.append(posted)
    # Two with the same created_at (the cursor then pages them by offset).
    Availability.objects.filter(pk__in=[rows[4].pk, rows[5].pk]).update(created_at=now - timedelta(minutes=3))
    factories.availability(buyer, cotton)  # the buyer's own: not on its market
    factories.availability(seller, cotton, available_kg=Decimal("0"), reserved_kg=Decimal("17000"))
    factories.availability(seller, cotton, status=AvailabilityStatus.DRAFT)
    factories.availability(seller, cotton, expires_at=now - timedelta(minutes=1))
    factories.availability(foreign_partner, cotton)
    return rows


def _viewers(organization: Any, buyer: Any) -> list[market.MarketViewer]:
    return [
        market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk),
        market.MarketViewer(organization_id=organization.pk, partner_id=None),
        market.MarketViewer(organization_id=None, partner_id=None),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York"])
def test_the_raw_page_equals_the_orm_for_every_viewer_ordering_bound_and_window(postings, organization, buyer, zone):
    now = timezone.now()
    middle = Availability.objects.get(pk=postings[6].pk).created_at
    tied = Availability.objects.get(pk=postings[4].pk).created_at
    positions = [str(middle), str(tied), middle.astimezone(timezone.get_fixed_timezone(330)).isoformat()]
    positions.append(middle.astimezone(timezone.get_fixed_timezone(-300)).replace(tzinfo=None).isoformat())
    with timezone.override(zone):
        for viewer in _viewers(organization, buyer):
            orm = market.market_availability_rows(market.market_availabilities(viewer, now=now))
            raw = market.MarketAvailabilityPage(viewer, now=now)
            for ordering in ORDERINGS:
                for window in (slice(0, 51), slice(0, 3), slice(2, 7)):
                    expected = list(orm.order_by(*ordering)[window])
                    got = raw.order_by(*ordering)[window]
                    assert_same_page(got, expected, viewer, ordering, window)
                    assert page_json(got) == documented_json(viewer, expected, now=now)
                for position in positions:
                    for lookup in ("created_at__lt", "created_at__gt"):
                        expected = list(orm.order_by(*ordering).filter(**{lookup: position})[0:4])
                        got = raw.order_by(*ordering).filter(**{lookup: position})[0:4]
                        assert_same_page(got, expected, viewer, ordering, lookup, position)


def test_what_a_partner_and_staff_see_on_the_raw_page(postings, organization, buyer, seller):
    partner = market.MarketAvailabilityPage(market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk))
    staff = market.MarketAvailabilityPage(market.MarketViewer(organization_id=organization.pk, partner_id=None))

    partner_rows = [json.loads(row.json) for row in partner.order_by("-created_at", "-id")[0:100]]
    staff_rows = [json.loads(row.json) for row in staff.order_by("-created_at", "-id")[0:100]]

    public = {p.pk for p in postings if p.visibility == Visibility.PUBLIC}
    invited = {p.pk for n, p in enumerate(postings) if p.visibility == Visibility.RESTRICTED and n % 6 == 1}
    assert {row["id"] for row in partner_rows} == {str(pk) for pk in public | invited}
    assert {row["poster"] is None for row in partner_rows} == {True}
    assert len(staff_rows) == 14 + 1  # every live posting of the organization, the buyer's own too
    seller_row = next(row for row in staff_rows if row["poster"] and row["poster"]["partner_code"] == seller.code)
    assert (seller_row["rating_band"], seller_row["poster"]["partner_id"]) == ("C", str(seller.pk))


def test_a_cursor_walk_through_the_api_pages_as_the_orm_does(authenticate, postings, organization, buyer):
    client = authenticate(buyer.owner)
    viewer = market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk)
    expected = availability_rows(
        list(market.market_availability_rows(market.market_availabilities(viewer)).order_by("-created_at", "-id"))
    )

    seen, url = [], "/api/v1/market/availabilities/?page_size=2"
    while url:
        body = client.get(url).json()
        seen.extend(body["results"])
        url = body["next"]
    last_page, back, url = body["results"], [], body["previous"]
    while url:
        body = client.get(url).json()
        back = body["results"] + back
        url = body["previous"]

    assert seen == expected
    assert back == expected[: len(expected) - len(last_page)]  # every page before the last, walking back


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_api_reads_pages_by_one_prepared_statement_with_a_generic_plan(
    authenticate, postings, organization, buyer
):
    """The view's own path (no transaction around it, the audit context's SQL wrapper on): the
    pages are what the ORM lists, each page size and cursor direction one prepared statement of
    the connection, planned once (generic plans only), and the same walk again prepares nothing."""
    connection.close()  # a connection with no statement of an earlier test
    client = authenticate(buyer.owner)
    viewer = market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk)
    expected = availability_rows(
        list(market.market_availability_rows(market.market_availabilities(viewer)).order_by("-created_at", "-id"))
    )

    def walk() -> list[dict[str, Any]]:
        seen, url = [], "/api/v1/market/availabilities/?page_size=2"
        while url:
            body = client.get(url).json()
            seen.extend(body["results"])
            url = body["next"]
        return seen

    def statements() -> list[tuple[str, int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE name LIKE 'cotton\\_%%' ORDER BY name"
            )
            return cursor.fetchall()

    assert walk() == expected
    first = statements()
    assert walk() == expected
    again = statements()
    # The first page and the pages after a cursor position: two statements for this viewer.
    assert [name for name, _, _ in again] == [name for name, _, _ in first]
    assert len(again) == 2
    assert {custom for _, _, custom in again} == {0}
    assert sum(generic for _, generic, _ in again) == 2 * sum(generic for _, generic, _ in first)
    assert sum(generic for _, generic, _ in first) == (len(expected) + 1) // 2
    connection.close()


def test_a_forged_cursor_position_is_a_400_not_a_500(authenticate, postings, buyer):
    from base64 import b64encode

    cursor = b64encode(b"o=0&r=0&p=not-a-date").decode()

    response = authenticate(buyer.owner).get(f"/api/v1/market/availabilities/?cursor={cursor}")

    assert (response.status_code, response.json()["code"]) == (400, "cursor_invalid")


ZONES = [
    "UTC",
    "Asia/Kolkata",
    "America/New_York",  # daylight saving; -04:56:02 in 1880
    "Asia/Kathmandu",  # +05:45
    "America/St_Johns",  # -03:30 / -02:30
    "Europe/London",  # +00:00 written Z in winter, +01:00 in summer
    timezone.get_fixed_timezone(330),
    timezone.get_fixed_timezone(-210),
    timezone.get_fixed_timezone(0),
]
ODD_QUALITIES = [
    '{"staple_length": "29.5", "micronaire": "4.1", "color_grade": "31-1"}',
    "{}",
    '{"staple_length": null, "trash": "3", "ginned": true}',
    '{"staple_length": 29.50, "micronaire": 4, "ratio": 1e2, "tiny": 0.000001}',  # numbers
    '{"nested": {"x": [1, "2", null, false]}, "list": []}',
    '["an", "array"]',
    '"a string"',
    "null",  # JSON null
    '{"\\u00e9 \\"k\\" \\\\ \\n": "\\u0ca4 \\u2028 \\t\\u0001 \\u007f"}',  # escapes and non-ASCII
]
ODD_NAME = 'Shree "Om" \\ Ginning\t\x01\x1f\x7f / ಕಾಟನ್ 🌱'


@pytest.fixture
def odd_postings(organization, seller, buyer, cotton) -> list[Availability]:
    """Postings whose JSON needs every rule: strings to escape, each shape of quality (numbers
    and nesting too, and non-objects), instants with and without microseconds, in summer and
    winter, and one in 1880 (local mean time: offsets with seconds)."""
    BusinessPartner.objects.filter(pk=seller.pk).update(legal_name=ODD_NAME)
    rows = []
    base = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    future = timezone.now() + timedelta(days=400)
    for n, quality in enumerate(ODD_QUALITIES):
        posted = factories.availability(
            seller,
            cotton,
            kg=Decimal("17000.1") + n,
            price=Decimal("0.50") if n == 3 else Decimal("60000.05"),
            price_per_kg=Decimal("0.0001") * n,
            state_code=["GJ", "", "ZZ", "MH"][n % 4],
            region=["WEST", "", "SOUTH"][n % 3],
            available_from=datetime(1880, 3, 1, 12, 0, tzinfo=UTC) if n == 1 else base + timedelta(days=150 * n),
            available_until=base + timedelta(days=180 * (n + 1), microseconds=[0, 1, 100000, 999999][n % 4]),
            expires_at=future.replace(microsecond=[0, 120, 500000][n % 3]) + timedelta(days=n),
        )
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tradedesk_availability SET quality = %s::jsonb WHERE id = %s", [quality, posted.pk])
        rows.append(posted)
    # created_at without microseconds (the cursor position then has none), and a tie.
    Availability.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(created_at=base)
    return rows


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_the_json_postgresql_writes_is_what_drf_writes_byte_for_byte(odd_postings, organization, buyer, zone):
    now = timezone.now()
    with timezone.override(zone):
        for viewer in _viewers(organization, buyer)[:2]:
            orm = market.market_availability_rows(market.market_availabilities(viewer, now=now))
            raw = market.MarketAvailabilityPage(viewer, now=now)
            for ordering in ORDERINGS:
                expected = list(orm.order_by(*ordering)[0:51])
                got = raw.order_by(*ordering)[0:51]
                assert len(got) == len(ODD_QUALITIES)
                assert_same_page(got, expected, viewer, ordering)
                assert page_json(got) == documented_json(viewer, expected, now=now)
            text = page_json(got).decode()
            if viewer.is_staff:  # the poster's name, escaped as orjson escapes it
                assert '"partner_legal_name":"Shree \\"Om\\" \\\\ Ginning\\t\\u0001\\u001f\x7f / ಕಾಟನ್ 🌱"' in text
            else:
                assert ODD_NAME not in text
                assert '"poster":null' in text
    if zone == "America/New_York":
        assert '"available_from":"1880-03-01T07:03:58-04:56:02"' in text
    if zone == "Europe/London":
        assert '"created_at":"2026-01-15T12:00:00Z"' in text
    assert [row.created_at for row in got][:2] == ["2026-01-15 12:00:00+00:00"] * 2  # ascending: the tie first


def test_the_api_answers_the_bytes_drf_renders_for_the_same_page(authenticate, odd_postings, organization, buyer):
    viewer = market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk)
    expected = list(
        market.market_availability_rows(market.market_availabilities(viewer)).order_by("-created_at", "-id")
    )

    response = authenticate(buyer.owner).get("/api/v1/market/availabilities/?page_size=4")

    body = response.json()
    rendered = OrjsonRenderer().render(
        {"next": body["next"], "previous": None, "results": availability_rows(expected[:4])}
    )
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert response.content == rendered
    assert body["next"] is not None


@pytest.mark.parametrize(
    ("quality", "written"),
    [
        (
            '{"staple_length": 29.50, "micronaire": "4.1", "list": [1, null, true]}',
            '{"staple_length":29.5,"micronaire":"4.1","list":[1,null,true]}',
        ),
        ('{"huge": 1e400, "tiny": 0.000001}', '{"huge":null,"tiny":1e-6}'),  # json's reading: orjson refuses 1e400
        ("null", "null"),
    ],
)
def test_a_rows_quality_is_written_as_the_json_module_reads_it(quality, written):
    import json

    import orjson

    assert market._row_text('{"q":', quality, "}") == '{"q":' + written + "}"
    assert written == orjson.dumps(json.loads(quality)).decode()
    assert market._row_text('{"q":', None, "}") == '{"q":null}'

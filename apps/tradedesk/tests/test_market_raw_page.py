"""The unfiltered availability market read by one hand-written statement
(market.MarketAvailabilityPage, issue 15) answers exactly what the ORM's
market_availability_rows(market_availabilities(viewer)) answers for the same data: partner, staff
and platform views, nulls (no variety, no delivery term, no risk category), time zones, both
orderings, cursor bounds and offsets, and whole cursor walks through the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.commodities.models import TermKind
from apps.commodities.tests.factories import TradeTermFactory
from apps.partners.models import BusinessPartner
from apps.partners.tests import factories as partner_factories
from apps.tradedesk import market
from apps.tradedesk.api.market import availability_rows
from apps.tradedesk.models import Availability, AvailabilityStatus, Visibility
from apps.tradedesk.tests import factories

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
                    assert raw.order_by(*ordering)[window] == expected, (viewer, ordering, window)
                    assert availability_rows(raw.order_by(*ordering)[window]) == availability_rows(expected)
                for position in positions:
                    for lookup in ("created_at__lt", "created_at__gt"):
                        expected = list(orm.order_by(*ordering).filter(**{lookup: position})[0:4])
                        got = raw.order_by(*ordering).filter(**{lookup: position})[0:4]
                        assert got == expected, (viewer, ordering, lookup, position)


def test_what_a_partner_and_staff_see_on_the_raw_page(postings, organization, buyer, seller):
    partner = market.MarketAvailabilityPage(market.MarketViewer(organization_id=organization.pk, partner_id=buyer.pk))
    staff = market.MarketAvailabilityPage(market.MarketViewer(organization_id=organization.pk, partner_id=None))

    partner_rows = partner.order_by("-created_at", "-id")[0:100]
    staff_rows = staff.order_by("-created_at", "-id")[0:100]

    public = {p.pk for p in postings if p.visibility == Visibility.PUBLIC}
    invited = {p.pk for n, p in enumerate(postings) if p.visibility == Visibility.RESTRICTED and n % 6 == 1}
    assert {row["id"] for row in partner_rows} == public | invited
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


def test_a_forged_cursor_position_is_a_400_not_a_500(authenticate, postings, buyer):
    from base64 import b64encode

    cursor = b64encode(b"o=0&r=0&p=not-a-date").decode()

    response = authenticate(buyer.owner).get(f"/api/v1/market/availabilities/?cursor={cursor}")

    assert (response.status_code, response.json()["code"]) == (400, "cursor_invalid")

"""The market's selectors (market.py): who sees which postings, what is left out, the rating
band, the filters; and the anonymised payload of the live feed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory
from apps.commodities.models import ParameterKind
from apps.commodities.tests.factories import CommodityFactory, QualityParameterFactory
from apps.core.errors import PermissionDenied
from apps.organizations.errors import FieldInvalid
from apps.partners.models import BusinessPartner, PartnerStatus
from apps.partners.tests import factories as partner_factories
from apps.tradedesk import market
from apps.tradedesk.market import MarketClosed, MarketFilters, MarketViewer
from apps.tradedesk.models import AvailabilityStatus, RequirementStatus, Visibility
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db


def _viewer(user: Any, perm: str = market.VIEW_AVAILABILITY) -> MarketViewer:
    return market.market_viewer(user, staff_perm=perm)


def _availability_ids(user: Any, filters: MarketFilters | None = None) -> set[Any]:
    rows = market.market_availabilities(_viewer(user))
    if filters is not None:
        rows = market.filter_market_availabilities(rows, filters)
    return set(rows.values_list("pk", flat=True))


def _requirement_ids(user: Any, filters: MarketFilters | None = None) -> set[Any]:
    rows = market.market_requirements(_viewer(user, market.VIEW_REQUIREMENT))
    if filters is not None:
        rows = market.filter_market_requirements(rows, filters)
    return set(rows.values_list("pk", flat=True))


# --- who may read -------------------------------------------------------------------------------


def test_a_partner_user_reads_as_its_partner_of_its_organization(seller_viewer, seller):
    assert _viewer(seller_viewer) == MarketViewer(organization_id=seller.organization_id, partner_id=seller.pk)


def test_staff_with_the_capability_read_as_staff_of_their_organization(desk_manager, organization):
    viewer = _viewer(desk_manager)

    assert viewer == MarketViewer(organization_id=organization.pk, partner_id=None)
    assert viewer.is_staff


def test_staff_without_the_capability_are_refused(kyc_officer):
    with pytest.raises(PermissionDenied) as refused:
        _viewer(kyc_officer)

    assert refused.value.code == "permission_denied"


def test_an_applicant_without_a_partner_is_refused(organization):
    applicant = ExternalUserFactory(organization=organization)

    with pytest.raises(MarketClosed) as refused:
        _viewer(applicant)

    assert (refused.value.code, refused.value.status) == ("market_closed", 403)


def test_a_platform_admin_reads_every_organization_as_staff():
    assert _viewer(SuperAdminFactory()) == MarketViewer(organization_id=None, partner_id=None)


def test_a_suspended_partners_users_still_read_the_market(seller, buyer, cotton):
    posted = factories.availability(seller, cotton)
    BusinessPartner.objects.filter(pk=buyer.pk).update(status=PartnerStatus.SUSPENDED)

    assert _availability_ids(buyer.owner) == {posted.pk}


# --- which availabilities -----------------------------------------------------------------------


def test_a_partner_sees_public_and_invited_restricted_offers_of_others_in_its_organization(
    seller, buyer, cotton, foreign_partner, organization
):
    third = partner_factories.approved_partner(organization, legal_name="Kadi Cotton Traders")
    public = factories.availability(seller, cotton)
    invited = factories.availability(seller, cotton, visibility=Visibility.RESTRICTED)
    invited.invited_partners.set([buyer])
    not_invited = factories.availability(seller, cotton, visibility=Visibility.RESTRICTED)
    not_invited.invited_partners.set([third])
    factories.availability(seller, cotton, visibility=Visibility.PRIVATE)
    buyers_own = factories.availability(buyer, cotton)
    factories.availability(foreign_partner, cotton)  # another organization's

    assert _availability_ids(buyer.owner) == {public.pk, invited.pk}
    assert _availability_ids(third.owner) == {public.pk, not_invited.pk, buyers_own.pk}


def test_only_live_offers_are_listed(seller, buyer, cotton):
    now = timezone.now()
    live = factories.availability(seller, cotton)
    for status in (
        AvailabilityStatus.DRAFT,
        AvailabilityStatus.PENDING_APPROVAL,
        AvailabilityStatus.RESERVED,
        AvailabilityStatus.SOLD,
        AvailabilityStatus.REJECTED,
        AvailabilityStatus.EXPIRED,
        AvailabilityStatus.CANCELLED,
    ):
        factories.availability(seller, cotton, status=status)
    factories.availability(seller, cotton, expires_at=now - timedelta(minutes=1))
    kg = Decimal("17000")
    factories.availability(seller, cotton, available_kg=0, reserved_kg=kg)  # ACTIVE, nothing left

    assert _availability_ids(buyer.owner) == {live.pk}


def test_staff_see_every_live_offer_of_their_organization_private_ones_too(
    seller, buyer, cotton, foreign_partner, desk_manager, other_org_desk_manager
):
    public = factories.availability(seller, cotton)
    restricted = factories.availability(seller, cotton, visibility=Visibility.RESTRICTED)
    private = factories.availability(buyer, cotton, visibility=Visibility.PRIVATE)
    foreign = factories.availability(foreign_partner, cotton)

    assert _availability_ids(desk_manager) == {public.pk, restricted.pk, private.pk}
    assert _availability_ids(other_org_desk_manager) == {foreign.pk}
    assert _availability_ids(SuperAdminFactory()) == {public.pk, restricted.pk, private.pk, foreign.pk}


def test_partners_rows_carry_no_poster_and_staff_rows_name_it(seller, buyer, cotton, desk_manager):
    posted = factories.availability(seller, cotton, number="AV/2026-27/000007")

    as_partner = market.market_availabilities(_viewer(buyer.owner)).get()
    as_staff = market.market_availabilities(_viewer(desk_manager)).get(pk=posted.pk)

    assert as_partner.poster is None
    assert as_staff.poster == {
        "partner_id": str(seller.pk),
        "partner_code": seller.code,
        "partner_legal_name": "Shree Rajkot Ginning Private Limited",
        "number": "AV/2026-27/000007",
    }


@pytest.mark.parametrize(
    ("risk_category", "band"), [("LOW", "A"), ("MEDIUM", "B"), ("HIGH", "C"), ("CRITICAL", "D"), ("", "UNRATED")]
)
def test_the_rating_band_follows_the_posters_risk_category(seller, buyer, cotton, risk_category, band):
    BusinessPartner.objects.filter(pk=seller.pk).update(risk_category=risk_category)
    factories.availability(seller, cotton)
    factories.requirement(seller, cotton)

    assert market.market_availabilities(_viewer(buyer.owner)).get().rating_band == band
    assert market.market_requirements(_viewer(buyer.owner, market.VIEW_REQUIREMENT)).get().rating_band == band
    assert market.rating_band(risk_category) == band


# --- which requirements -------------------------------------------------------------------------


def test_a_partner_sees_live_public_and_invited_requirements_of_others(seller, buyer, cotton, foreign_partner):
    now = timezone.now()
    active = factories.requirement(buyer, cotton)
    partly = factories.requirement(buyer, cotton, status=RequirementStatus.PARTIALLY_FULFILLED, fulfilled_kg=1700)
    invited = factories.requirement(buyer, cotton, visibility=Visibility.RESTRICTED)
    invited.invited_partners.set([seller])
    factories.requirement(buyer, cotton, visibility=Visibility.RESTRICTED)  # nobody invited
    factories.requirement(buyer, cotton, visibility=Visibility.PRIVATE)
    for status in (
        RequirementStatus.DRAFT,
        RequirementStatus.FULFILLED,
        RequirementStatus.EXPIRED,
        RequirementStatus.CANCELLED,
    ):
        factories.requirement(buyer, cotton, status=status)
    factories.requirement(buyer, cotton, valid_until=now - timedelta(minutes=1), valid_from=now - timedelta(days=2))
    factories.requirement(buyer, cotton, valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=9))
    factories.requirement(seller, cotton)  # its own
    factories.requirement(foreign_partner, cotton)

    assert _requirement_ids(seller.owner) == {active.pk, partly.pk, invited.pk}


def test_staff_see_private_requirements_and_what_remains(seller, buyer, cotton, desk_manager):
    private = factories.requirement(buyer, cotton, visibility=Visibility.PRIVATE, fulfilled_kg=Decimal("1700"))

    row = market.market_requirements(_viewer(desk_manager, market.VIEW_REQUIREMENT)).get()

    assert row.pk == private.pk
    assert row.remaining_kg == Decimal("32300.000")  # 200 bales less 10
    assert row.poster["partner_id"] == str(buyer.pk)


# --- filters ------------------------------------------------------------------------------------


def test_availabilities_filter_by_commodity_id_or_code_and_variety_id_or_code(seller, buyer, cotton):
    other = CommodityFactory(code="KAPAS")
    shankar = cotton.varieties.get(code="SHANKAR-6")
    plain = factories.availability(seller, cotton)
    with_variety = factories.availability(seller, cotton, variety=shankar)
    kapas = factories.availability(seller, other, quality={})

    assert _availability_ids(buyer.owner, MarketFilters(commodity="COTTON")) == {plain.pk, with_variety.pk}
    assert _availability_ids(buyer.owner, MarketFilters(commodity=str(other.pk))) == {kapas.pk}
    assert _availability_ids(buyer.owner, MarketFilters(variety="SHANKAR-6")) == {with_variety.pk}
    assert _availability_ids(buyer.owner, MarketFilters(variety=str(shankar.pk))) == {with_variety.pk}


def test_availabilities_filter_by_price_per_kg_state_region_and_available_quantity(seller, buyer, cotton):
    cheap = factories.availability(seller, cotton, price_per_kg=Decimal("160.0000"), kg=Decimal("1700"))
    dear = factories.availability(
        seller,
        cotton,
        price_per_kg=Decimal("175.5000"),
        state_code="MH",
        region="WEST",
        location=factories.location("Akola", state_code="MH"),
    )
    south = factories.availability(seller, cotton, price_per_kg=Decimal("170.0000"), state_code="TN", region="SOUTH")

    def ids(**filters: Any) -> set[Any]:
        return _availability_ids(buyer.owner, MarketFilters(**filters))

    assert ids(price_per_kg_min=Decimal("170")) == {dear.pk, south.pk}
    assert ids(price_per_kg_max=Decimal("170")) == {cheap.pk, south.pk}
    assert ids(price_per_kg_min=Decimal("160.0001"), price_per_kg_max=Decimal("175.4999")) == {south.pk}
    assert ids(state_code="MH") == {dear.pk}
    assert ids(region="WEST") == {cheap.pk, dear.pk}
    assert ids(min_available_kg=Decimal("1700.001")) == {dear.pk, south.pk}
    assert ids(min_available_kg=Decimal("1700")) == {cheap.pk, dear.pk, south.pk}


def test_availabilities_filter_by_numeric_quality_ranges_cast_from_the_stored_strings(seller, buyer, cotton):
    long_fine = factories.availability(
        seller, cotton, quality={"staple_length": "30.5", "micronaire": "3.9", "strength": "30.0"}
    )
    short = factories.availability(
        seller, cotton, quality={"staple_length": "27.5", "micronaire": "4.2", "strength": "28"}
    )
    coarse = factories.availability(
        seller, cotton, quality={"staple_length": "29.0", "micronaire": "4.9", "strength": "29"}
    )
    # Numbers compare as numbers, not text: "100.0" > "28.5" although "1" < "2".
    params = {"quality.staple_length.min": "28.5", "quality.micronaire.max": "4.5"}

    filters = MarketFilters(quality=market.parse_quality_filters(params, commodity="COTTON"))

    assert _availability_ids(buyer.owner, filters) == {long_fine.pk}
    bounds = market.parse_quality_filters(
        {"quality.micronaire.min": "4.2", "quality.micronaire.max": "4.9"}, commodity=None
    )
    assert _availability_ids(buyer.owner, MarketFilters(quality=bounds)) == {short.pk, coarse.pk}


def test_a_quality_range_leaves_out_offers_without_the_value_or_with_a_non_numeric_one(seller, buyer, cotton):
    # Another commodity keeps a GRADE under the same code: the cast must not fail on it.
    other = CommodityFactory(code="WASTE")
    QualityParameterFactory(
        commodity=other,
        code="staple_length",
        kind=ParameterKind.GRADE,
        min_value=None,
        max_value=None,
        allowed_values=["LONG", "SHORT"],
    )
    numeric = factories.availability(seller, cotton, quality={"staple_length": "29.0"})
    factories.availability(seller, other, quality={"staple_length": "LONG"})
    factories.availability(seller, cotton, quality={"micronaire": "4.0"})

    bounds = market.parse_quality_filters({"quality.staple_length.min": "20"}, commodity=None)

    assert _availability_ids(buyer.owner, MarketFilters(quality=bounds)) == {numeric.pk}


def test_a_grade_parameter_filters_by_its_exact_value(seller, buyer, cotton):
    graded = factories.availability(seller, cotton, quality={**factories.COTTON_QUALITY, "color_grade": "31-1"})
    factories.availability(seller, cotton, quality={**factories.COTTON_QUALITY, "color_grade": "41-2"})

    grade = market.parse_quality_filters({"quality.color_grade": "31-1"}, commodity="COTTON")

    assert _availability_ids(buyer.owner, MarketFilters(quality=grade)) == {graded.pk}


@pytest.mark.parametrize(
    ("params", "attr", "code"),
    [
        ({"quality.staple_length.mid": "28"}, "quality.staple_length.mid", "invalid"),
        ({"quality.Staple.min": "28"}, "quality.Staple.min", "invalid"),
        ({"quality.fineness.min": "3"}, "quality.fineness.min", "unknown_parameter"),
        ({"quality.color_grade.min": "3"}, "quality.color_grade.min", "unknown_parameter"),
        ({"quality.staple_length": "28"}, "quality.staple_length", "unknown_parameter"),
        ({"quality.staple_length.min": "long"}, "quality.staple_length.min", "invalid"),
        ({"quality.staple_length.min": "NaN"}, "quality.staple_length.min", "invalid"),
        ({"quality.color_grade": "31\x00-1"}, "quality.color_grade", "invalid"),  # a NUL (was a 500)
        (
            {"quality.staple_length.min": "30", "quality.staple_length.max": "29"},
            "quality.staple_length.max",
            "range_invalid",
        ),
    ],
)
def test_bad_quality_filters_name_the_parameter(cotton, params, attr, code):
    with pytest.raises(FieldInvalid) as refused:
        market.parse_quality_filters(params, commodity="COTTON")

    assert (refused.value.attr, refused.value.reason) == (attr, code)


def test_a_parameter_of_another_commodity_is_unknown_when_a_commodity_is_given(cotton):
    other = CommodityFactory(code="JUTE")
    QualityParameterFactory(commodity=other, code="fineness")

    assert market.parse_quality_filters({"quality.fineness.min": "1"}, commodity=None)[0].minimum == Decimal("1")
    with pytest.raises(FieldInvalid):
        market.parse_quality_filters({"quality.fineness.min": "1"}, commodity="COTTON")


def test_requirements_filter_by_max_price_per_kg_and_a_quantity_they_would_take(seller, buyer, cotton):
    bale = Decimal("170")
    low = factories.requirement(buyer, cotton, max_price_per_kg=Decimal("165.0000"))
    high = factories.requirement(
        buyer,
        cotton,
        max_price_per_kg=Decimal("180.0000"),
        status=RequirementStatus.PARTIALLY_FULFILLED,
        fulfilled_kg=150 * bale,
    )

    def ids(**filters: Any) -> set[Any]:
        return _requirement_ids(seller.owner, MarketFilters(**filters))

    assert ids(price_per_kg_min=Decimal("170")) == {high.pk}
    assert ids(price_per_kg_max=Decimal("170")) == {low.pk}
    # 50..200 bales wanted; `high` has 150 of them already: it takes up to 50 more.
    assert ids(quantity_kg=50 * bale) == {low.pk, high.pk}
    assert ids(quantity_kg=60 * bale) == {low.pk}
    assert ids(quantity_kg=49 * bale) == set()
    assert ids(state_code="TN", region="SOUTH", commodity="COTTON") == {low.pk, high.pk}
    assert ids(urgency="URGENT") == set()


# --- the live feed's payload ----------------------------------------------------------------------


def test_the_market_payload_keeps_the_market_fields_and_drops_everything_else():
    payload = {
        "availability_id": "a-1",
        "number": "AV/2026-27/000001",
        "status": "ACTIVE",
        "commodity_code": "COTTON",
        "available_kg": "17000.000",
        "price_per_kg": "168.7194",
        "quality": {"staple_length": "29.0"},
        "state_code": "GJ",
        "region": "WEST",
        "visibility": "PUBLIC",
        "invited_partner_ids": ["p-2"],
        "reason": "sold to Kadi Mills",
        "reference": "NEG-1",
        "partner_id": "p-1",
        "changed": {"price_per_kg": {"from": "1", "to": "2"}, "invited_partner_ids": {"from": [], "to": ["p-2"]}},
    }

    assert market.market_event_payload(payload, allowed=market.AVAILABILITY_MARKET_FIELDS, band="B") == {
        "availability_id": "a-1",
        "status": "ACTIVE",
        "commodity_code": "COTTON",
        "available_kg": "17000.000",
        "price_per_kg": "168.7194",
        "quality": {"staple_length": "29.0"},
        "state_code": "GJ",
        "state_name": "Gujarat",
        "region": "WEST",
        "visibility": "PUBLIC",
        "changed": {"price_per_kg": {"from": "1", "to": "2"}},
        "rating_band": "B",
    }

"""`seed_demo`'s trade desk: cotton availabilities and requirements of the demo partners, through
the services, numbered, idempotent, and with pairs that will match."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.commodities.quality import check_spec
from apps.events.models import OutboxEvent
from apps.organizations.services.financial_years import financial_year_label, india_today, indian_financial_year
from apps.tradedesk import events
from apps.tradedesk.models import (
    Availability,
    AvailabilityStatus,
    Requirement,
    RequirementDeliveryLocation,
    RequirementStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seeders_up_to_this_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check what the trade desk's seed leaves: later seeders (trades makes demo trades from
    the proposals, selling and fulfilling) are left out."""
    from apps.core import seeding

    monkeypatch.setattr(seeding, "_SEEDERS", [s for s in seeding._SEEDERS if s.order <= 60])


# The Indian financial year of today (the seed numbers postings in it): 2026-27 ...
FY = financial_year_label(*indian_financial_year(india_today()))


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _postings(model: type, organization_code: str) -> list[tuple[str, str, str]]:
    return sorted(
        model.objects.filter(organization__code=organization_code).values_list(
            "number", "status", "partner__legal_name"
        )
    )


def _compatible_pairs() -> set[tuple[str, str, str]]:
    """(organization, requirement number, availability number) of live postings that matching
    will pair: same organization and commodity, the variety if the buyer names one, the price per
    kg within the buyer's maximum, no hard quality mismatch, and the offer's window reaching the
    delivery window."""
    pairs = set()
    requirements = Requirement.objects.filter(status=RequirementStatus.ACTIVE).select_related(
        "commodity", "organization"
    )
    for requirement in requirements:
        offers = Availability.objects.filter(
            status=AvailabilityStatus.ACTIVE,
            organization_id=requirement.organization_id,
            commodity_id=requirement.commodity_id,
            price_per_kg__lte=requirement.max_price_per_kg,
            available_until__date__gte=requirement.delivery_from,
        )
        if requirement.variety_id is not None:
            offers = offers.filter(variety_id=requirement.variety_id)
        for offer in offers:
            if not any(m.hard for m in check_spec(requirement.commodity, requirement.spec, offer.quality)):
                pairs.add((requirement.organization.code, requirement.number, offer.number))
    return pairs


def test_seed_demo_posts_numbered_availabilities_and_requirements_for_both_organizations():
    output = _seed()

    rajkot = "Shree Rajkot Ginning Private Limited"
    amreli = "Amreli Cotton Ginners LLP"
    akola = "Akola Cotton Processors Private Limited"
    assert _postings(Availability, "SCH") == [
        (f"AV/{FY}/000001", "ACTIVE", rajkot),
        (f"AV/{FY}/000002", "ACTIVE", rajkot),
        (f"AV/{FY}/000003", "ACTIVE", rajkot),
        (f"AV/{FY}/000004", "ACTIVE", amreli),
        (f"AV/{FY}/000005", "PENDING_APPROVAL", amreli),
        (f"AV/{FY}/000006", "ACTIVE", "Kadi Cotton Industries"),
    ]
    assert _postings(Availability, "DFT") == [
        (f"AV/{FY}/000001", "ACTIVE", "Adilabad Ginning Company"),
        (f"AV/{FY}/000002", "ACTIVE", akola),
        (f"AV/{FY}/000003", "PENDING_APPROVAL", akola),
    ]
    coimbatore = "Coimbatore Spinning Mills Limited"
    assert _postings(Requirement, "SCH") == [
        (f"RQ/{FY}/000001", "ACTIVE", coimbatore),
        (f"RQ/{FY}/000002", "ACTIVE", coimbatore),
        (f"RQ/{FY}/000003", "ACTIVE", "Tiruppur Knit Yarns Private Limited"),
    ]
    assert _postings(Requirement, "DFT") == [
        (f"RQ/{FY}/000001", "ACTIVE", "Warangal Spinners Limited"),
        (f"RQ/{FY}/000002", "ACTIVE", "Guntur Cotton Traders"),
    ]
    assert "tradedesk: 7 availabilities on the market, 2 awaiting approval, 5 requirements open" in output


def test_seeded_offers_went_through_the_desk_and_carry_cotton_terms():
    _seed()

    assert OutboxEvent.objects.filter(type=events.AVAILABILITY_CREATED).count() == 9
    assert OutboxEvent.objects.filter(type=events.AVAILABILITY_SUBMITTED).count() == 9
    approved = Availability.objects.filter(status=AvailabilityStatus.ACTIVE)
    assert sorted(set(approved.values_list("organization__code", "decided_by__email"))) == [
        ("DFT", "desk.manager@dft.cotton-erp.test"),
        ("SCH", "desk.manager@sch.cotton-erp.test"),
    ]
    assert OutboxEvent.objects.filter(type=events.AVAILABILITY_APPROVED).count() == 7
    assert OutboxEvent.objects.filter(type=events.REQUIREMENT_PUBLISHED).count() == 5
    # Keyed by the partners' owners, not by staff: maker-checker holds for every approval.
    assert not approved.filter(created_by__user_type="INTERNAL").exists()

    shankar = Availability.objects.filter(variety__code="SHANKAR-6", organization__code="SCH")
    assert sorted(shankar.values_list("quantity", "price", "quantity_unit__code", "price_unit__code")) == [
        (120, 61000, "BALE", "CANDY"),
        (150, 60400, "BALE", "CANDY"),
        (200, 57800, "BALE", "CANDY"),
        (300, 59500, "BALE", "CANDY"),
        (500, 58200, "BALE", "CANDY"),
    ]
    for offer in shankar:
        assert offer.total_kg == offer.quantity * 170
        assert offer.available_kg == offer.total_kg
        assert offer.state_code == "GJ"
        assert offer.ship_from_branch is not None
        assert offer.ship_from_branch.partner_id == offer.partner_id
        assert 56000 <= offer.price <= 61000
        assert Decimal("29") <= Decimal(offer.quality["staple_length"]) <= Decimal("30")
        assert Decimal("3.9") <= Decimal(offer.quality["micronaire"]) <= Decimal("4.4")
        assert Decimal("29") <= Decimal(offer.quality["strength"]) <= Decimal("31")
        assert Decimal("2.5") <= Decimal(offer.quality["trash"]) <= Decimal("3.5")
        assert offer.available_until > timezone.now() + timedelta(days=9)
    dch = Availability.objects.get(variety__code="DCH-32")
    assert (dch.partner.legal_name, dch.location.name, dch.delivery_term.code) == (
        "Kadi Cotton Industries",
        "Kadi",
        "EX_WAREHOUSE",
    )
    whole_lot = Availability.objects.get(organization__code="SCH", quantity=120)
    assert (whole_lot.partial_allowed, whole_lot.min_order_kg) == (False, 120 * 170)

    deliveries = sorted(
        RequirementDeliveryLocation.objects.filter(requirement__organization__code="SCH").values_list(
            "requirement__number", "location__name", "radius_km"
        )
    )
    assert deliveries == [
        (f"RQ/{FY}/000001", "Coimbatore", 50),
        (f"RQ/{FY}/000001", "Tiruppur", 30),
        (f"RQ/{FY}/000002", "Coimbatore", 40),
        (f"RQ/{FY}/000003", "Coimbatore", 60),
        (f"RQ/{FY}/000003", "Tiruppur", 40),
    ]
    mill = Requirement.objects.get(organization__code="SCH", number=f"RQ/{FY}/000001")
    assert (mill.max_price, mill.price_unit.code, mill.state_code, mill.region) == (62000, "CANDY", "TN", "SOUTH")
    assert mill.spec["micronaire"] == {"min": "3.8", "max": "4.5"}
    assert mill.delivery_from > timezone.localdate()


def test_a_second_seed_demo_adds_no_posting_and_no_event():
    _seed()
    availabilities = set(Availability.objects.values_list("id", "status", "number"))
    requirements = set(Requirement.objects.values_list("id", "status", "number"))
    tradedesk_events = OutboxEvent.objects.filter(type__startswith="tradedesk.").count()

    _seed()

    assert set(Availability.objects.values_list("id", "status", "number")) == availabilities
    assert set(Requirement.objects.values_list("id", "status", "number")) == requirements
    assert OutboxEvent.objects.filter(type__startswith="tradedesk.").count() == tradedesk_events


def test_eleven_seeded_pairs_will_match_and_the_long_staple_dch_32_matches_no_mill():
    _seed()

    pairs = _compatible_pairs()

    assert pairs == {
        # Coimbatore, Shankar-6 at up to 62,000: every live Shankar-6 offer.
        ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000001"),
        ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000002"),
        ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000003"),
        ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000004"),
        # Coimbatore, 29.5 mm and 29.5 g/tex at up to 61,500 from day 15: not the whole lot of
        # 30 mm (AV/3), offered for 10 days only.
        ("SCH", f"RQ/{FY}/000002", f"AV/{FY}/000001"),
        # Tiruppur at up to 60,000: not the 61,000 lot.
        ("SCH", f"RQ/{FY}/000003", f"AV/{FY}/000001"),
        ("SCH", f"RQ/{FY}/000003", f"AV/{FY}/000002"),
        ("SCH", f"RQ/{FY}/000003", f"AV/{FY}/000004"),
        # Warangal takes both DFT offers; Guntur wants 29 mm (Akola's).
        ("DFT", f"RQ/{FY}/000001", f"AV/{FY}/000001"),
        ("DFT", f"RQ/{FY}/000001", f"AV/{FY}/000002"),
        ("DFT", f"RQ/{FY}/000002", f"AV/{FY}/000002"),
    }
    assert len(pairs) >= 10

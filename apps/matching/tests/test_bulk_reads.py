"""The reads an offer's run makes for thousands of requirements at once, held equal to the plain
paths they replace: `requirement_views` (rows, no model instances) against `requirement_view` of
each instance; `_stored_ranking` (ranked by the database, only the rows from the N-th on) against
the whole ranking sorted in Python; the one-statement withdrawal; the run's news before its
withdrawals in the outbox."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from apps.commodities.models import Commodity
from apps.commodities.tests.factories import exchange_schedule
from apps.events.models import OutboxEvent
from apps.matching.candidates import requirement_view, requirement_views, requirements_for_matching
from apps.matching.models import MatchingSettings, MatchProposal, ProposalStatus
from apps.matching.services.proposals import (
    _stored_ranking,
    availability_match,
    requirement_match,
    requirements_match_bulk,
)
from apps.matching.tests.factories import distinct_partner, proposal
from apps.matching.tests.test_engine import need, offer, per_kg, town
from apps.partners.models import BusinessPartner, PartnerStatus
from apps.tradedesk.models import Requirement, Visibility
from apps.tradedesk.tests import factories as desk

pytestmark = pytest.mark.django_db


def _commodity(commodity: Any) -> Commodity:
    return Commodity.objects.select_related("rate_unit").prefetch_related("parameters").get(pk=commodity.pk)


def test_requirement_views_equal_requirement_view_of_each_instance(organization, cotton, buyer, seller):
    other_buyer = distinct_partner(organization, "Second Spinning Mills")
    suspended = distinct_partner(organization, "Suspended Mills")
    BusinessPartner.objects.filter(pk=suspended.pk).update(status=PartnerStatus.SUSPENDED)
    kg_unit = desk.units()["KG"]
    requirements = [
        need(buyer, cotton, points=[("Coimbatore", "50"), ("Tiruppur", "30")]),
        need(buyer, cotton, preferred=None, points=[("Tiruppur", "0")]),
        need(other_buyer, cotton, visibility=Visibility.RESTRICTED),
        need(other_buyer, cotton, visibility=Visibility.PRIVATE, spec={"micronaire": {"max": "4.9"}}),
        need(suspended, cotton),
        # Priced per kg, not in the commodity's rate unit: the basis is converted.
        desk.requirement(
            buyer,
            cotton,
            price_unit=kg_unit,
            price_unit_factor=Decimal("1"),
            max_price=Decimal("174.5"),
            preferred_price=Decimal("170.25"),
            max_price_per_kg=Decimal("174.5"),
            preferred_price_per_kg=Decimal("170.25"),
            spec={},
        ),
    ]
    requirements[2].invited_partners.add(seller, suspended)
    commodity = _commodity(cotton)
    queryset = Requirement.objects.filter(pk__in=[r.pk for r in requirements]).order_by("id")

    views = requirement_views(queryset, commodity_of=lambda organization_id, commodity_id: commodity)

    expected = {r.pk: requirement_view(r, commodity) for r in requirements_for_matching(queryset)}
    assert list(views) == list(expected) == sorted((r.pk for r in requirements), key=str)
    assert views == expected
    # What the cases are there for, so a silently empty column cannot pass.
    by_id = {r.pk: views[r.pk] for r in requirements}
    assert len(by_id[requirements[0].pk].delivery) == 2
    assert by_id[requirements[1].pk].preferred_price_per_kg is None
    assert by_id[requirements[2].pk].invited_ids == frozenset({seller.pk, suspended.pk})
    assert by_id[requirements[3].pk].visibility == 2
    assert by_id[requirements[4].pk].buyer_refusal == "partner_inactive"
    assert by_id[requirements[5].pk].basis_per_rate_unit == (
        Decimal("170.25") * commodity.rate_unit.factor_to_kg
    ).quantize(Decimal("0.01"))
    assert requirement_views(queryset.none(), commodity_of=lambda organization_id, commodity_id: commodity) == {}


def _python_ranking(requirement_ids: set[Any], exclude: Any) -> dict[Any, list[tuple[tuple[float, str], Any]]]:
    """The ranking as the offer's run built it before the database ranked it: every ACTIVE row
    but `exclude`'s, sorted in Python by (-total, offer id as text)."""
    ranking: dict[Any, list[tuple[tuple[float, str], Any]]] = {}
    rows = MatchProposal.objects.filter(requirement_id__in=requirement_ids, status=ProposalStatus.ACTIVE).exclude(
        availability_id=exclude
    )
    for row in rows:
        total = row.components.get("total")
        value = float(total) if total is not None else float(row.score)
        ranking.setdefault(row.requirement_id, []).append(((-value, str(row.availability_id)), row.pk))
    for entries in ranking.values():
        entries.sort()
    return ranking


@pytest.mark.parametrize("top_n", [1, 3, 5])
def test_stored_ranking_equals_the_whole_ranking_sorted_in_python(cotton, buyer, seller, top_n):
    lots = [offer(seller, cotton, candy=str(59000 + 10 * n)) for n in range(7)]
    full, short, empty = need(buyer, cotton), need(buyer, cotton), need(buyer, cotton)
    # Ties on the total (ordered by offer id), a total with many digits, one row with no total
    # (its score counts), a WITHDRAWN row and the excluded offer's row (neither counts).
    totals = [0.8, 0.8, 0.912345678901234, None, 0.8, 0.61, 0.799999999999]
    for lot, total in zip(lots, totals, strict=True):
        components = {"quality": 1.0} if total is None else {"quality": 1.0, "total": total}
        proposal(full, lot, components=components, score=Decimal("0.850000"))
    proposal(short, lots[0], components={"total": 0.7})
    proposal(short, lots[1], components={"total": 0.9}, status=ProposalStatus.WITHDRAWN, withdrawn_at=timezone.now())
    proposal(short, lots[2], components={"total": 0.95})
    excluded = lots[4]

    ranked = _stored_ranking({full.pk, short.pk, empty.pk}, exclude=excluded.pk, top_n=top_n)

    expected = _python_ranking({full.pk, short.pk, empty.pk}, excluded.pk)
    assert len(expected[full.pk]) == 6
    assert len(expected[short.pk]) == 2
    for requirement in (full, short):
        assert ranked[requirement.pk].count == len(expected[requirement.pk])
        assert ranked[requirement.pk].from_nth == expected[requirement.pk][top_n - 1 :]
    assert empty.pk not in ranked
    assert ranked[full.pk].count == 6


def test_an_outranking_offer_withdraws_in_one_statement_and_its_news_come_first(organization, cotton, buyer, seller):
    MatchingSettings.objects.create(organization=organization, proposals_per_requirement=2)
    requirements = [need(buyer, cotton, preferred="58000") for _ in range(3)]
    lots = [offer(seller, cotton, candy=str(59000 + 300 * n)) for n in range(2)]
    for requirement in requirements:
        requirement_match(requirement_id=requirement.pk)
    before = {p.pk: p.updated_at for p in MatchProposal.objects.filter(availability=lots[1])}
    assert len(before) == 3
    last = OutboxEvent.objects.order_by("-position").values_list("position", flat=True).first()

    best = offer(seller, cotton, candy="58500")
    with transaction.atomic():
        result = availability_match(availability_id=best.pk)

    assert sorted(p.requirement_id for p in result.proposed) == sorted(r.pk for r in requirements)
    dropped = MatchProposal.objects.filter(pk__in=before)
    assert {(p.status, p.withdrawn_reason) for p in dropped} == {(ProposalStatus.WITHDRAWN, "outranked")}
    for row in dropped:
        assert row.withdrawn_at is not None
        assert row.updated_at == row.withdrawn_at > before[row.pk]
    assert MatchProposal.objects.filter(availability=lots[0], status=ProposalStatus.ACTIVE).count() == 3
    written = list(OutboxEvent.objects.filter(position__gt=last).order_by("position").values_list("type", flat=True))
    # Top 5 new per side: 3 to the buyer, 3 to the seller; then both sides of 3 withdrawals.
    assert written == ["matching.match.proposed"] * 6 + ["matching.match.withdrawn"] * 6
    assert (
        per_kg(Decimal("58500"))
        == MatchProposal.objects.get(availability=best, requirement=requirements[0]).raw_price_per_kg
    )


@pytest.mark.parametrize("with_schedule", [True, False])
def test_the_upsert_stores_each_rows_json_as_the_run_built_it(organization, cotton, buyer, seller, with_schedule):
    """The upsert sends the weights, filters and schedule explanations once each and every row
    names its own: what is stored must be each row's own values, with freight and without a
    schedule too."""
    if with_schedule:
        exchange_schedule(cotton)
    MatchingSettings.objects.create(organization=organization, freight_per_kg_km=Decimal("0.002"), enforce_radius=False)
    qualities = [
        {"staple_length": "28.2", "micronaire": "4.85", "strength": "29.5"},
        {"staple_length": "29.5", "micronaire": "4.2", "strength": "30.5"},
        {"staple_length": "28.2", "micronaire": "4.85", "strength": "29.5"},
    ]
    for n, quality in enumerate(qualities):
        offer(
            seller, cotton, candy=str(58000 + 100 * n), quality=quality, location=town(["Rajkot", "Akola", "Rajkot"][n])
        )
    requirements = [
        need(buyer, cotton, spec={}, points=[("Coimbatore", "50")]),
        need(buyer, cotton, spec={}, preferred="59000"),
    ]

    results = requirements_match_bulk(requirement_ids=[r.pk for r in requirements])

    assert results == 2 * 3
    stored = {p.pk: p for p in MatchProposal.objects.all()}
    assert len(stored) == 6
    kept = [p for r in requirements for p in requirement_match(requirement_id=r.pk).kept]
    assert {p.pk for p in kept} == set(stored)
    schedules = set()
    for mine in kept:
        row = stored[mine.pk]
        assert (row.explanation, row.weights, row.filters_passed, row.components) == (
            mine.explanation,
            mine.weights,
            mine.filters_passed,
            mine.components,
        )
        assert row.explanation["adjusted_price_per_kg"] == str(row.adjusted_price_per_kg)
        schedules.add(json.dumps(row.explanation["schedule"], sort_keys=True))
    if with_schedule:
        assert len(schedules) == 4  # two qualities at two bases
        assert all(json.loads(text)["lines"] for text in schedules)
    else:
        assert schedules == {"null"}
        assert {row.explanation["note"] for row in stored.values()} == {
            "COTTON has no active premium/discount schedule: ranked on the raw price."
        }
    assert {row.explanation["freight"]["per_kg_km"] for row in stored.values() if row.distance_km} == {"0.002000"}


def test_the_candidate_query_leaves_the_planner_settings_as_it_found_them(cotton, buyer, seller):
    """load_candidates reads the prefiltered offers with a cached page's cost (its index range),
    and sets the transaction's random_page_cost back after that one statement."""
    from django.db import connection

    from apps.matching.candidates import load_candidates
    from apps.matching.engine import matching_context

    offer(seller, cotton)
    requirement = need(buyer, cotton)
    ctx = matching_context(requirement.organization_id, cotton.pk)
    view = requirement_view(
        requirements_for_matching(Requirement.objects.filter(pk=requirement.pk)).get(), ctx.commodity
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL random_page_cost = 3.5")
        cands = load_candidates(view, ctx.commodity, quality_codes=ctx.quality_codes(view.spec))
        cursor.execute("SELECT current_setting('random_page_cost')")
        assert cursor.fetchone()[0] == "3.5"
    assert len(cands) == 1

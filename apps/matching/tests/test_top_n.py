"""A requirement keeps its best N proposals (MatchingSettings.proposals_per_requirement): the
engine's kept set is the reference's top N, whichever side runs; a better offer displaces the
N-th (withdrawn as `outranked`); an offer leaving a full top N, or sinking in it, lets the next
one in. Posting ids given as text match like UUIDs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.events.models import OutboxEvent
from apps.matching import risk
from apps.matching.models import MatchingSettings, MatchProposal, ProposalStatus
from apps.matching.services.proposals import availability_match, requirement_match, requirements_match_bulk
from apps.matching.tests.reference import reference_proposals
from apps.matching.tests.test_engine import need, offer, per_kg
from apps.risk.models import CreditAccount
from apps.tradedesk.models import Availability, AvailabilityStatus

pytestmark = pytest.mark.django_db

TOP_N = 3


@pytest.fixture
def top3(organization: Any) -> None:
    MatchingSettings.objects.create(organization=organization, proposals_per_requirement=TOP_N)


def _stored(requirement: Any) -> list[tuple[Any, float]]:
    rows = MatchProposal.objects.filter(requirement=requirement, status=ProposalStatus.ACTIVE)
    return sorted(((p.availability_id, p.components["total"]) for p in rows), key=lambda pair: (-pair[1], str(pair[0])))


def _market(cotton: Any, buyer: Any, seller: Any) -> tuple[Any, list[Any]]:
    requirement = need(buyer, cotton, preferred="58000")
    lots = [offer(seller, cotton, candy=str(59000 + 300 * n)) for n in range(6)]  # cheaper is better
    return requirement, lots


def test_a_requirement_keeps_the_references_top_n_and_each_offer_rematched_changes_nothing(cotton, buyer, seller, top3):
    requirement, lots = _market(cotton, buyer, seller)

    result = requirement_match(requirement_id=requirement.pk)

    reference = reference_proposals(requirement)
    assert len(reference) == 6
    assert (
        [p.availability_id for p in result.kept] == [pk for pk, _ in reference[:TOP_N]] == [lot.pk for lot in lots[:3]]
    )
    assert _stored(requirement) == [(p.availability_id, p.components["total"]) for p in result.kept]
    assert MatchProposal.objects.count() == TOP_N  # the rest is not stored
    assert OutboxEvent.objects.filter(type="matching.match.proposed", partner_id=buyer.pk).count() == TOP_N
    for lot in lots:
        again = availability_match(availability_id=lot.pk)
        assert (again.proposed, again.updated, again.withdrawn) == ([], [], [])
    assert [pk for pk, _ in _stored(requirement)] == [lot.pk for lot in lots[:3]]


def test_a_better_offer_displaces_the_nth_which_is_withdrawn_as_outranked(cotton, buyer, seller, top3):
    requirement, lots = _market(cotton, buyer, seller)
    requirement_match(requirement_id=requirement.pk)

    best = offer(seller, cotton, candy="58500")
    result = availability_match(availability_id=best.pk)

    assert [p.requirement_id for p in result.proposed] == [requirement.pk]
    assert [pk for pk, _ in _stored(requirement)] == [best.pk, lots[0].pk, lots[1].pk]
    dropped = MatchProposal.objects.get(availability=lots[2])
    assert (dropped.status, dropped.withdrawn_reason) == (ProposalStatus.WITHDRAWN, "outranked")
    withdrawn = OutboxEvent.objects.filter(type="matching.match.withdrawn", aggregate_id=str(dropped.pk))
    assert sorted(e.payload["side"] for e in withdrawn) == ["buyer", "seller"]
    assert {e.payload["reason"] for e in withdrawn} == {"outranked"}
    assert [pk for pk, _ in _stored(requirement)] == [pk for pk, _ in reference_proposals(requirement)[:TOP_N]]


def test_an_offer_worse_than_a_full_top_n_is_not_stored(cotton, buyer, seller, top3):
    requirement, _ = _market(cotton, buyer, seller)
    requirement_match(requirement_id=requirement.pk)
    before = OutboxEvent.objects.count()

    worse = offer(seller, cotton, candy="61500")
    result = availability_match(availability_id=worse.pk)

    assert (result.proposed, result.kept) == ([], [])
    assert not MatchProposal.objects.filter(availability=worse).exists()
    assert OutboxEvent.objects.count() == before


def test_a_kept_offer_leaving_lets_the_next_one_in(cotton, buyer, seller, top3):
    requirement, lots = _market(cotton, buyer, seller)
    requirement_match(requirement_id=requirement.pk)

    Availability.objects.filter(pk=lots[0].pk).update(status=AvailabilityStatus.CANCELLED)
    result = availability_match(availability_id=lots[0].pk)

    assert [p.withdrawn_reason for p in result.withdrawn] == ["availability_cancelled"]
    assert [pk for pk, _ in _stored(requirement)] == [lots[1].pk, lots[2].pk, lots[3].pk]
    assert [pk for pk, _ in _stored(requirement)] == [pk for pk, _ in reference_proposals(requirement)[:TOP_N]]
    assert OutboxEvent.objects.filter(type="matching.match.proposed", partner_id=buyer.pk).count() == TOP_N + 1


def test_a_kept_offer_sinking_below_the_next_one_is_replaced_by_it(cotton, buyer, seller, top3):
    requirement, lots = _market(cotton, buyer, seller)
    requirement_match(requirement_id=requirement.pk)

    dearer = Decimal("60800")  # still passes, now worse than lots[3] (59,900)
    Availability.objects.filter(pk=lots[1].pk).update(price=dearer, price_per_kg=per_kg(dearer))
    result = availability_match(availability_id=lots[1].pk)

    assert [p.withdrawn_reason for p in result.withdrawn] == ["outranked"]
    assert [pk for pk, _ in _stored(requirement)] == [lots[0].pk, lots[2].pk, lots[3].pk]
    assert [pk for pk, _ in _stored(requirement)] == [pk for pk, _ in reference_proposals(requirement)[:TOP_N]]


def test_the_bulk_run_keeps_the_same_top_n(cotton, buyer, seller, top3):
    requirement, lots = _market(cotton, buyer, seller)

    assert requirements_match_bulk(requirement_ids=[requirement.pk]) == 6

    assert [pk for pk, _ in _stored(requirement)] == [lot.pk for lot in lots[:3]]


def test_posting_ids_given_as_text_match_like_uuids(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    lot = offer(seller, cotton)

    by_text = requirement_match(requirement_id=str(requirement.pk))

    assert [p.availability_id for p in by_text.kept] == [lot.pk]
    assert MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).count() == 1
    again = availability_match(availability_id=str(lot.pk))
    assert [p.requirement_id for p in again.kept] == [requirement.pk]
    assert (again.proposed, again.updated, again.withdrawn) == ([], [], [])
    with pytest.raises(ValueError, match="requirement_id must be a UUID"):
        requirement_match(requirement_id="RQ/2026-27/000001")


def test_risk_standings_answer_as_the_risk_apps_assessment(organization, buyer, seller):
    CreditAccount.objects.create(
        organization=organization, partner=seller, credit_limit=Decimal("2000000"), exposure=Decimal("1500000"),
        rating=Decimal("2.5"), delivery_performance=Decimal("40"), payment_performance=Decimal("70"),
    )  # fmt: skip
    amounts = [Decimal("0"), Decimal("100000.00"), Decimal("2500000.00"), Decimal("90000000.00")]
    standings = risk.standings([buyer.pk, seller.pk])
    answers = set()
    for side in (risk.BUYER, risk.SELLER):
        for partner in (buyer, seller):
            for amount in amounts:
                answer = risk.assessment(side, partner.pk, amount)
                assert risk.result_of(standings[partner.pk], side, amount) == answer
                answers.add(answer)
    assert answers == {"PASS", "WARN", "FAIL"}  # the cases tell the results apart

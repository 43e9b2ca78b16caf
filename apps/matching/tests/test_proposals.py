"""Proposals over time: one row per pair, updated not duplicated (same token), withdrawn when the
pair stops passing and proposed again when it passes again; each side hears of its top 5 new
proposals; the sweep catches what no event announced."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.matching.models import MatchProposal, MatchSweep, ProposalStatus
from apps.matching.services.proposals import availability_match, requirement_match
from apps.matching.services.sweep import BULK_FROM, matching_sweep
from apps.matching.tests.test_engine import need, offer, per_kg, town
from apps.partners.models import BusinessPartner, PartnerStatus
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement

pytestmark = pytest.mark.django_db


def _events(event_type: str, partner: Any | None = None) -> int:
    events = OutboxEvent.objects.filter(type=event_type)
    return events.filter(partner_id=partner.pk).count() if partner is not None else events.count()


def test_a_changed_score_updates_the_same_row_and_emits_updated_to_both_sides(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    offer(seller, cotton, candy="61000")
    first = requirement_match(requirement_id=requirement.pk).kept[0]

    Requirement.objects.filter(pk=requirement.pk).update(
        preferred_price=Decimal("61000"), preferred_price_per_kg=per_kg(Decimal("61000"))
    )
    result = requirement_match(requirement_id=requirement.pk)

    assert (result.proposed, [p.pk for p in result.updated]) == ([], [first.pk])
    again = MatchProposal.objects.get()
    assert (again.pk, again.token, again.proposed_at) == (first.pk, first.token, first.proposed_at)
    assert again.score > first.score
    assert (_events("matching.match.updated", buyer), _events("matching.match.updated", seller)) == (1, 1)


def test_the_stored_row_holds_exactly_what_the_runs_proposal_says(cotton, buyer, seller):
    requirement = need(buyer, cotton, points=[("Coimbatore", "50")])
    offer(seller, cotton, location=town("Tiruppur"))

    kept = requirement_match(requirement_id=requirement.pk).kept[0]

    stored = MatchProposal.objects.get()
    assert kept._state.adding is False
    assert {f.attname: getattr(stored, f.attname) for f in MatchProposal._meta.concrete_fields} == {
        f.attname: getattr(kept, f.attname) for f in MatchProposal._meta.concrete_fields
    }
    assert stored.distance_km is not None


def test_an_unchanged_rerun_writes_no_event(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    offer(seller, cotton)
    requirement_match(requirement_id=requirement.pk)
    before = OutboxEvent.objects.count()

    result = requirement_match(requirement_id=requirement.pk)

    assert (result.proposed, result.updated, result.withdrawn) == ([], [], [])
    assert OutboxEvent.objects.count() == before


def test_a_pair_that_stops_passing_is_withdrawn_with_its_reason_and_comes_back_with_its_token(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    lot = offer(seller, cotton)
    first = requirement_match(requirement_id=requirement.pk).kept[0]

    Availability.objects.filter(pk=lot.pk).update(price_per_kg=per_kg(Decimal("63000")), price=Decimal("63000"))
    withdrawn = availability_match(availability_id=lot.pk).withdrawn
    Availability.objects.filter(pk=lot.pk).update(price_per_kg=per_kg(Decimal("60000")), price=Decimal("60000"))
    back = availability_match(availability_id=lot.pk).proposed

    assert [(p.pk, p.withdrawn_reason) for p in withdrawn] == [(first.pk, "price_above_max")]
    assert [(p.pk, p.token) for p in back] == [(first.pk, first.token)]
    assert MatchProposal.objects.get().status == ProposalStatus.ACTIVE
    assert _events("matching.match.withdrawn") == 2
    assert _events("matching.match.proposed", buyer) == 2


def test_each_side_hears_of_its_top_5_new_proposals_only(cotton, buyer, seller):
    requirement = need(buyer, cotton, preferred="58000")
    lots = [offer(seller, cotton, candy=str(59000 + 300 * n)) for n in range(7)]

    result = requirement_match(requirement_id=requirement.pk)

    assert len(result.proposed) == 7
    told = OutboxEvent.objects.filter(type="matching.match.proposed", partner_id=buyer.pk)
    best = [p.token for p in result.kept[:5]]
    assert sorted(e.payload["token"] for e in told) == sorted(best)
    assert _events("matching.match.proposed", seller) == 5
    assert [p.availability_id for p in result.kept] == [lot.pk for lot in lots]  # cheaper first


def test_a_requirement_no_longer_open_has_its_proposals_withdrawn(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    offer(seller, cotton)
    requirement_match(requirement_id=requirement.pk)

    Requirement.objects.filter(pk=requirement.pk).update(status="CANCELLED")
    result = requirement_match(requirement_id=requirement.pk)

    assert [p.withdrawn_reason for p in result.withdrawn] == ["requirement_cancelled"]
    assert MatchProposal.objects.get().status == ProposalStatus.WITHDRAWN


def test_the_sweep_withdraws_what_no_event_announced_and_rematches_changed_partners(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    kept, dropped = offer(seller, cotton), offer(seller, cotton, candy="59000")
    requirement_match(requirement_id=requirement.pk)
    MatchSweep.objects.create(name="matching", last_swept_at=timezone.now())
    # A change made outside the services: no event.
    Availability.objects.filter(pk=dropped.pk).update(status=AvailabilityStatus.CANCELLED)

    first = matching_sweep()

    assert first.ran
    statuses = dict(MatchProposal.objects.values_list("availability_id", "status"))
    assert statuses == {kept.pk: ProposalStatus.ACTIVE, dropped.pk: ProposalStatus.WITHDRAWN}

    BusinessPartner.objects.filter(pk=seller.pk).update(status=PartnerStatus.SUSPENDED, updated_at=timezone.now())
    second = matching_sweep()

    assert second.partners >= 1
    assert MatchProposal.objects.get(availability=kept).withdrawn_reason == "partner_inactive"


def test_a_full_sweep_scores_every_open_requirement_against_every_active_offer(cotton, buyer, seller):
    for _ in range(3):
        need(buyer, cotton)
    for n in range(4):
        offer(seller, cotton, candy=str(60000 + 100 * n))

    result = matching_sweep(full=True)

    assert result.pairs_scored == 12
    assert MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).count() == 12


def test_many_changed_requirements_are_swept_in_bulk_with_the_proposals_one_by_one_would_store(
    cotton, buyer, seller, monkeypatch
):
    from apps.matching.services import sweep as sweep_module

    lots = [offer(seller, cotton, candy=str(59000 + 100 * n)) for n in range(3)]
    requirements = [need(buyer, cotton, max_candy=str(59050 + 100 * (n % 3)), preferred=None) for n in range(BULK_FROM)]
    MatchSweep.objects.create(name="matching", last_swept_at=timezone.now() - timedelta(minutes=1))
    bulk: list[int] = []
    real = sweep_module.requirements_match_bulk
    monkeypatch.setattr(
        sweep_module,
        "requirements_match_bulk",
        lambda *, requirement_ids: bulk.append(len(requirement_ids)) or real(requirement_ids=requirement_ids),
    )

    result = matching_sweep()

    assert bulk == [BULK_FROM]
    assert (result.requirements, result.pairs_scored) == (BULK_FROM, BULK_FROM * 3)
    swept = sorted(MatchProposal.objects.values_list("requirement_id", "availability_id", "score"))
    # Offer n fits the requirements whose maximum is above its price: 1, 2 or 3 of them.
    assert len(swept) == sum(1 + n % 3 for n in range(BULK_FROM))
    MatchProposal.objects.all().delete()
    for requirement in requirements:
        requirement_match(requirement_id=requirement.pk)
    assert sorted(MatchProposal.objects.values_list("requirement_id", "availability_id", "score")) == swept
    assert {p[1] for p in swept} == {lot.pk for lot in lots}


def test_the_sweep_is_a_periodic_task_and_its_task_runs_it():
    from django.conf import settings

    from apps.matching.tasks import sweep

    entry = settings.PERIODIC_TASKS["matching.sweep"]

    assert entry["task"] == sweep.name == "apps.matching.tasks.sweep"
    assert sweep() == {"ran": True, "requirements": 0, "availabilities": 0, "partners": 0}
    assert MatchSweep.objects.get(name="matching").last_swept_at is not None

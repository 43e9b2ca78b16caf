"""The sweep scores a block while a thread of its own writes the one before (`_BlockWriter`): what
it stores equals what the inline sweep stores, the thread's connection is closed at the end, and
a requirement changed between its scoring and its block's write is scored again under its lock
(its stamp differs), so the write never stores a stale view."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from apps.events.models import OutboxEvent
from apps.matching.engine import matching_context
from apps.matching.models import MatchProposal, ProposalStatus
from apps.matching.services import proposals
from apps.matching.services.proposals import (
    _score,
    _write_block,
    load_candidates,
    requirement_match,
    requirement_view,
    requirements_for_matching,
    requirements_match_bulk,
)
from apps.matching.tests.test_engine import need, offer, per_kg, town
from apps.tradedesk.models import Requirement, RequirementStatus

committed = pytest.mark.django_db(transaction=True)


def _market(cotton: Any, buyer: Any, seller: Any) -> list[Any]:
    for n in range(8):
        offer(seller, cotton, candy=str(58000 + 150 * n), location=town(["Rajkot", "Akola"][n % 2]))
    return [need(buyer, cotton, preferred=str(58000 + 100 * n), spec={}) for n in range(7)]


def _stored() -> list[tuple[Any, ...]]:
    rows = MatchProposal.objects.order_by("requirement_id", "availability_id")
    return [
        (p.requirement_id, p.availability_id, p.status, p.score, p.components, p.adjusted_price_per_kg, p.explanation)
        for p in rows
    ]


def _own_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        count: int = cursor.fetchone()[0]
    return count


@committed
def test_the_threaded_sweep_stores_what_the_inline_sweep_stores_and_closes_its_connection(
    cotton, buyer, seller, monkeypatch
):
    requirements = _market(cotton, buyer, seller)
    monkeypatch.setattr(proposals, "SWEEP_BLOCK", 3)  # three blocks: two written while the next is scored
    before = _own_connections()

    assert not connection.in_atomic_block
    pairs = requirements_match_bulk(requirement_ids=[r.pk for r in requirements])

    threaded = _stored()
    assert pairs == 7 * 8
    assert len(threaded) == 7 * 8  # every pair passes (top N is 20)
    assert _own_connections() == before
    events = OutboxEvent.objects.filter(type="matching.match.proposed").count()
    MatchProposal.objects.all().delete()
    OutboxEvent.objects.all().delete()
    monkeypatch.setattr(proposals, "SWEEP_WRITER", False)
    requirements_match_bulk(requirement_ids=[r.pk for r in requirements])
    inline = _stored()
    assert [row[:6] for row in threaded] == [row[:6] for row in inline]
    assert [row[6] for row in threaded] == [row[6] for row in inline]
    assert OutboxEvent.objects.filter(type="matching.match.proposed").count() == events == 7 * 5 + 7 * 5


def _scored_block(requirements: list[Any], cotton: Any) -> tuple[list[Any], Any, Any, Any]:
    block = sorted((r.pk for r in requirements), key=str)
    ctx = matching_context(requirements[0].organization_id, cotton.pk)
    first = requirements_for_matching(Requirement.objects.filter(pk=block[0])).get()
    shared = load_candidates(
        requirement_view(first, ctx.commodity), ctx.commodity, quality_codes=ctx.quality_codes({}), prefilter=False
    )
    scoring = _score(block, ctx=ctx, shared=shared, stamped=True)
    return block, scoring, ctx, shared


def test_a_requirement_changed_after_its_scoring_is_scored_again_under_its_lock(cotton, buyer, seller):
    requirements = _market(cotton, buyer, seller)
    block, scoring, ctx, shared = _scored_block(requirements, cotton)
    changed, cancelled = requirements[2], requirements[4]
    # After the scoring: one requirement now pays at most 58,400 a candy (three offers fit), one is
    # cancelled.
    Requirement.objects.filter(pk=changed.pk).update(
        max_price=Decimal("58400"), max_price_per_kg=per_kg(Decimal("58400")), preferred_price=None,
        preferred_price_per_kg=None,
    )  # fmt: skip
    Requirement.objects.filter(pk=cancelled.pk).update(status=RequirementStatus.CANCELLED)
    assert len(scoring.plans[changed.pk].pairs) == 8

    with transaction.atomic():
        _write_block(block, scoring, ctx, shared)

    stored = MatchProposal.objects.filter(status=ProposalStatus.ACTIVE)
    assert stored.filter(requirement=changed).count() == 3
    assert not MatchProposal.objects.filter(requirement=cancelled).exists()
    for requirement in requirements:
        if requirement.pk == cancelled.pk:
            continue
        mine = {(p.availability_id, p.score) for p in stored.filter(requirement=requirement)}
        again = requirement_match(requirement_id=requirement.pk)  # a fresh run changes nothing
        assert (again.proposed, again.updated, again.withdrawn) == ([], [], [])
        assert {(p.availability_id, p.score) for p in again.kept} == mine


def test_a_block_whose_requirements_did_not_change_is_written_as_scored(cotton, buyer, seller, monkeypatch):
    requirements = _market(cotton, buyer, seller)
    block, scoring, ctx, shared = _scored_block(requirements, cotton)
    rescored: list[Any] = []
    real = proposals._score
    monkeypatch.setattr(proposals, "_score", lambda ids, **kw: rescored.append(ids) or real(ids, **kw))

    with transaction.atomic():
        _write_block(block, scoring, ctx, shared)

    assert rescored == []
    assert MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).count() == 7 * 8

"""Matching on the event backbone, committed for real (the relay sees only committed events):
publishing a requirement or approving an offer proposes, cancelling withdraws, a handler failure
dead-letters the event with nothing half-written, runs of one posting are safe concurrently, and a
posting cancelled while it is being matched gets no proposal."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import transaction

from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent
from apps.events.relay import relay_batch, relay_until_idle
from apps.matching.models import MatchProposal, ProposalStatus
from apps.matching.services import proposals
from apps.matching.services.proposals import availability_match, requirement_match
from apps.matching.tests.test_engine import need, offer, town
from apps.tradedesk.models import Availability, AvailabilityStatus
from apps.tradedesk.services import availabilities as availability_services
from apps.tradedesk.services import requirements as requirement_services
from apps.tradedesk.tests.factories import requirement_fields

committed = pytest.mark.django_db(transaction=True)


def _types(partner: Any) -> list[str]:
    return list(
        OutboxEvent.objects.filter(type__startswith="matching.", partner_id=partner.pk)
        .order_by("position")
        .values_list("type", flat=True)
    )


@committed
def test_publishing_a_requirement_proposes_and_cancelling_the_offer_withdraws(cotton, buyer, seller, financial_year):
    lot = offer(seller, cotton, location=town("Tiruppur"))
    requirement = requirement_services.requirement_create(
        actor=buyer.owner, partner_id=buyer.pk, fields=requirement_fields(cotton)
    )
    requirement_services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    relay_until_idle(max_seconds=20)

    proposal = MatchProposal.objects.get()
    assert (proposal.requirement_id, proposal.availability_id, proposal.status) == (
        requirement.pk,
        lot.pk,
        ProposalStatus.ACTIVE,
    )
    assert _types(buyer) == _types(seller) == ["matching.match.proposed"]
    for event in OutboxEvent.objects.filter(type="matching.match.proposed"):
        text = str(event.payload)
        other = seller if event.partner_id == buyer.pk else buyer
        assert str(other.pk) not in text
        assert other.legal_name not in text
        assert event.payload["token"] == proposal.token

    availability_services.availability_cancel(actor=seller.owner, availability_id=lot.pk, reason="Sold elsewhere")
    relay_until_idle(max_seconds=20)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.withdrawn_reason) == (ProposalStatus.WITHDRAWN, "availability_cancelled")
    assert _types(buyer) == _types(seller) == ["matching.match.proposed", "matching.match.withdrawn"]


@committed
def test_a_handler_failure_dead_letters_the_event_with_its_reason_and_writes_nothing(
    cotton, buyer, seller, financial_year, settings, monkeypatch
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    offer(seller, cotton, location=town("Tiruppur"))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("notifications are down")

    monkeypatch.setattr(proposals, "_emit_run", broken)  # fails after the proposals were upserted
    requirement = requirement_services.requirement_create(
        actor=buyer.owner, partner_id=buyer.pk, fields=requirement_fields(cotton)
    )
    requirement_services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)
    relay_until_idle(max_seconds=20)

    published = OutboxEvent.objects.get(type="tradedesk.requirement.published")
    assert published.status == EventStatus.DEAD
    assert "matching.requirement: RuntimeError: notifications are down" in published.last_error
    assert HandlerRun.objects.get(event=published, handler="matching.requirement").status == HandlerRunStatus.DEAD
    assert MatchProposal.objects.count() == 0
    assert not OutboxEvent.objects.filter(type__startswith="matching.").exists()


@committed
def test_two_runs_of_one_requirement_at_once_store_one_proposal_per_pair(cotton, buyer, seller, run_concurrently):
    requirement = need(buyer, cotton)
    lots = [offer(seller, cotton, candy=str(60000 + 100 * n)) for n in range(3)]

    results = run_concurrently(lambda: requirement_match(requirement_id=requirement.pk), times=2)
    crossed = run_concurrently(lambda: availability_match(availability_id=lots[0].pk), times=2)

    assert [r.error for r in results + crossed] == [None] * 4
    assert sorted(len(r.value.proposed) for r in results) == [0, 3]
    assert MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).count() == 3
    assert OutboxEvent.objects.filter(type="matching.match.proposed").count() == 6  # 3 a side


@committed
def test_an_offer_cancelled_while_the_requirement_is_being_matched_gets_no_proposal(cotton, buyer, seller):
    requirement = need(buyer, cotton)
    lot = offer(seller, cotton)
    locked, done = threading.Event(), threading.Event()

    def cancel_slowly() -> None:
        from django.db import connections

        try:
            with transaction.atomic():
                row = Availability.objects.select_for_update().get(pk=lot.pk)
                row.status = AvailabilityStatus.CANCELLED
                row.save(update_fields=["status", "updated_at"])
                locked.set()
                time.sleep(1.0)  # matching reads the offer as ACTIVE, then waits for this lock
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=cancel_slowly)
    thread.start()
    assert locked.wait(10)
    result = requirement_match(requirement_id=requirement.pk)
    thread.join(10)

    assert done.is_set()
    assert result.kept == []
    assert MatchProposal.objects.count() == 0


def test_every_matching_handler_runs_in_one_relay_worker_at_a_time():
    from apps.events import registry
    from apps.matching.locks import MATCHING_SERIAL

    mine = [h for h in registry._handlers.values() if h.name.startswith("matching.")]
    assert len(mine) >= 3
    assert {h.serial for h in mine} == {MATCHING_SERIAL}


@committed
def test_three_relay_workers_draining_interleaved_postings_never_deadlock(cotton, buyer, seller, run_concurrently):
    """Each batch is one transaction holding the proposal rows of its earlier runs; without the
    matching serial key, workers whose batches crossed (a requirement, then an offer) deadlocked
    and retried (4 of 406 events of the demo seed under three threads). Now none fails."""
    from apps.events.emit import emit

    requirements = [need(buyer, cotton, max_candy=str(62000 + 100 * n)) for n in range(4)]
    lots = [offer(seller, cotton, candy=str(60000 + 100 * n)) for n in range(4)]
    with transaction.atomic():
        for requirement, lot in zip(requirements, reversed(lots), strict=True):
            emit("tradedesk.requirement.published", aggregate_type="tradedesk.requirement", aggregate_id=requirement.pk)
            emit("tradedesk.availability.approved", aggregate_type="tradedesk.availability", aggregate_id=lot.pk)

    def drain() -> int:
        failed = 0
        while (result := relay_batch(2)).claimed:
            failed += result.failed + result.dead
        return failed

    results = run_concurrently(drain, times=3)

    assert [r.error for r in results if r.error] == []
    assert [r.value for r in results] == [0, 0, 0]
    assert not HandlerRun.objects.exclude(status=HandlerRunStatus.DONE).exists()
    assert OutboxEvent.objects.filter(type__startswith="tradedesk.", status=EventStatus.DISPATCHED).count() == 8
    assert MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).count() == 16

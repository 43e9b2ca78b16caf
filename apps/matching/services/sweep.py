"""The periodic sweep (beat, settings.PERIODIC_TASKS): re-score what changed since the last sweep
and withdraw proposals whose pair no longer passes, catching whatever an event did not (a lost
hint, a change made outside the services, a weights or schedule version switched on).

- requirements and offers updated since the watermark: re-matched (the requirements in bulk from
  BULK_FROM of them on);
- partners updated since the watermark: their postings re-matched;
- ACTIVE proposals whose requirement is no longer open or whose offer is no longer ACTIVE with
  something available: their posting re-matched (which withdraws them);
- `full=True`: every open requirement against every active offer (requirements_match_bulk).

One sweep at a time (a session advisory lock; a second one returns at once). The watermark moves
to the sweep's start, so a change made while it runs is seen by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.matching.candidates import MATCHABLE_REQUIREMENT_STATES
from apps.matching.locks import try_lock_sweep, unlock_sweep
from apps.matching.models import MatchProposal, MatchSweep, ProposalStatus
from apps.matching.services.proposals import (
    availability_match,
    partner_match,
    requirement_match,
    requirements_match_bulk,
)
from apps.partners.models import BusinessPartner
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement

SWEEP_NAME = "matching"
# From this many changed requirements on, the sweep matches them in bulk (requirements_match_bulk:
# the commodity's offers loaded once) rather than one by one (each its own prefiltered query).
BULK_FROM = 20


@dataclass(frozen=True)
class SweepResult:
    ran: bool
    requirements: int = 0
    availabilities: int = 0
    partners: int = 0
    pairs_scored: int = 0


def matching_sweep(*, full: bool = False) -> SweepResult:
    """Re-match what changed since the last sweep (everything with `full`)."""
    if not try_lock_sweep():
        return SweepResult(ran=False)
    try:
        return _sweep(full=full)
    finally:
        unlock_sweep()


def _sweep(*, full: bool) -> SweepResult:
    started = timezone.now()
    watermark = MatchSweep.objects.filter(name=SWEEP_NAME).values_list("last_swept_at", flat=True).first()
    since: datetime = watermark or datetime.min.replace(tzinfo=started.tzinfo)
    open_requirements = Requirement.objects.filter(status__in=MATCHABLE_REQUIREMENT_STATES)
    pairs = 0
    if full:
        requirement_ids = list(open_requirements.values_list("pk", flat=True))
        pairs = requirements_match_bulk(requirement_ids=requirement_ids)
        availability_ids: list = []
        partner_ids: list = []
    else:
        requirement_ids = list(Requirement.objects.filter(updated_at__gt=since).values_list("pk", flat=True))
        availability_ids = list(Availability.objects.filter(updated_at__gt=since).values_list("pk", flat=True))
        partner_ids = list(BusinessPartner.objects.filter(updated_at__gt=since).values_list("pk", flat=True))
        stale = MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).filter(
            ~Q(requirement__status__in=MATCHABLE_REQUIREMENT_STATES)
            | ~Q(availability__status=AvailabilityStatus.ACTIVE)
            | Q(availability__available_kg__lte=0)
        )
        requirement_ids += list(stale.values_list("requirement_id", flat=True))
        availability_ids += list(stale.values_list("availability_id", flat=True))
        changed = sorted(set(requirement_ids), key=str)
        if len(changed) >= BULK_FROM:
            # Many at once (a busy market, a sweep after downtime): every offer of each
            # commodity loaded once and shared, blocks written while the next is scored.
            pairs = requirements_match_bulk(requirement_ids=changed)
        else:
            for requirement_id in changed:
                requirement_match(requirement_id=requirement_id)
        for availability_id in sorted(set(availability_ids), key=str):
            availability_match(availability_id=availability_id)
        for partner_id in sorted(set(partner_ids), key=str):
            partner_match(partner_id=partner_id)
    with transaction.atomic():
        MatchSweep.objects.update_or_create(name=SWEEP_NAME, defaults={"last_swept_at": started})
    return SweepResult(
        ran=True,
        requirements=len(set(requirement_ids)),
        availabilities=len(set(availability_ids)),
        partners=len(set(partner_ids)),
        pairs_scored=pairs,
    )

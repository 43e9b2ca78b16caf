"""Demo matching (seed_demo, after the trade desk's postings and risk): each demo organization's
matching settings, then every open requirement matched, so the demo partners find proposals
under `GET /api/v1/matches/` (tokens included) and the desk in the admin's Matches screen.

The demo's mills buy for Coimbatore, Tiruppur, Warangal and Guntur while its gins sit in Gujarat
and Maharashtra, as real cotton moves; under a strict delivery radius none of the eleven
compatible pairs the trade-desk seed leaves would match. So the demo organizations score
distance instead of enforcing the radius (MatchingSettings.enforce_radius = False), and put no
freight estimate on it. Idempotent: a second run re-scores the same pairs and adds nothing.
"""

from __future__ import annotations

from apps.core.seeding import SeedReport
from apps.matching.candidates import MATCHABLE_REQUIREMENT_STATES
from apps.matching.models import MatchingSettings, MatchProposal, ProposalStatus
from apps.matching.services.proposals import requirements_match_bulk
from apps.tradedesk.models import Requirement


def seed_matching(report: SeedReport) -> None:
    counts = []
    for organization in report.context["organizations"]:
        MatchingSettings.objects.get_or_create(organization=organization, defaults={"enforce_radius": False})
        requirement_ids = list(
            Requirement.objects.filter(organization=organization, status__in=MATCHABLE_REQUIREMENT_STATES)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        requirements_match_bulk(requirement_ids=requirement_ids)
        active = MatchProposal.objects.filter(organization=organization, status=ProposalStatus.ACTIVE).count()
        counts.append(f"{organization.code} {active}")
    report.lines.append(f"matching: active proposals {', '.join(counts)}")

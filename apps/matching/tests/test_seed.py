"""seed_demo leaves a proposal for each of the eleven compatible pairs of the trade-desk seed, with
tokens the demo partners can read, and a second run adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.matching.models import MatchProposal, ProposalStatus
from apps.matching.selectors import partner_proposals, proposal_for_token
from apps.organizations.services.financial_years import financial_year_label, india_today, indian_financial_year
from apps.partners.models import MembershipRole, PartnerMembership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seeders_up_to_this_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check what matching's seed leaves: later seeders (trades makes demo trades from
    the proposals, selling and fulfilling) are left out."""
    from apps.core import seeding

    monkeypatch.setattr(seeding, "_SEEDERS", [s for s in seeding._SEEDERS if s.order <= 70])


FY = financial_year_label(*indian_financial_year(india_today()))

ELEVEN = {
    ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000001"),
    ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000002"),
    ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000003"),
    ("SCH", f"RQ/{FY}/000001", f"AV/{FY}/000004"),
    ("SCH", f"RQ/{FY}/000002", f"AV/{FY}/000001"),
    ("SCH", f"RQ/{FY}/000003", f"AV/{FY}/000001"),
    ("SCH", f"RQ/{FY}/000003", f"AV/{FY}/000002"),
    ("SCH", f"RQ/{FY}/000003", f"AV/{FY}/000004"),
    ("DFT", f"RQ/{FY}/000001", f"AV/{FY}/000001"),
    ("DFT", f"RQ/{FY}/000001", f"AV/{FY}/000002"),
    ("DFT", f"RQ/{FY}/000002", f"AV/{FY}/000002"),
}


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _pairs() -> set[tuple[str, str, str]]:
    return set(
        MatchProposal.objects.filter(status=ProposalStatus.ACTIVE).values_list(
            "organization__code", "requirement__number", "availability__number"
        )
    )


def test_seed_demo_proposes_the_eleven_compatible_pairs_and_a_second_run_changes_nothing():
    output = _seed()

    assert _pairs() == ELEVEN
    assert "matching: active proposals SCH 8, DFT 3" in output
    proposals = {p.pk: (p.token, p.score) for p in MatchProposal.objects.all()}
    assert all(score >= 0.6 for _, score in proposals.values())

    _seed()

    assert {p.pk: (p.token, p.score) for p in MatchProposal.objects.all()} == proposals


def test_the_demo_partners_see_their_proposals_by_token():
    _seed()

    for proposal in MatchProposal.objects.select_related("buyer", "seller"):
        for partner in (proposal.buyer, proposal.seller):
            owner = PartnerMembership.objects.get(partner=partner, role=MembershipRole.OWNER).user
            assert proposal in set(partner_proposals(user=owner))
            assert proposal_for_token(user=owner, token=proposal.token) == proposal

"""Who may read a proposal by its token: its buyer's and seller's users and its organization's
staff; anyone else, and an unknown token, get match_not_found (404)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.matching.errors import MatchNotFound
from apps.matching.selectors import partner_proposals, proposal_for_token
from apps.matching.tests.factories import distinct_partner, proposal
from apps.tradedesk.tests import factories as desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def match(cotton: Any, buyer: Any, seller: Any) -> Any:
    return proposal(desk.requirement(buyer, cotton), desk.availability(seller, cotton))


def test_the_buyer_the_seller_and_the_desk_read_a_proposal_by_its_token(
    match, buyer, seller, buyer_viewer, seller_trader, desk_manager
):
    for user in (buyer.owner, buyer_viewer, seller.owner, seller_trader, desk_manager):
        assert proposal_for_token(user=user, token=match.token).pk == match.pk


def test_a_token_is_at_least_128_bits_and_unique_per_proposal(match, cotton, buyer, seller):
    other = proposal(desk.requirement(buyer, cotton), desk.availability(seller, cotton))

    assert len(match.token) >= 22  # token_urlsafe: 6 bits a character; 24 bytes give 32
    assert len(match.token) == 32
    assert match.token != other.token


def test_another_partner_another_organization_and_an_unknown_token_answer_match_not_found(
    match, organization, foreign_partner, other_org_desk_manager, desk_manager
):
    stranger = distinct_partner(organization, "Guntur Cotton Traders")
    applicant = UserFactory(organization=organization, user_type="EXTERNAL", email=None, mobile="+919800000001")
    for user in (stranger.owner, foreign_partner.owner, other_org_desk_manager, applicant):
        with pytest.raises(MatchNotFound) as refused:
            proposal_for_token(user=user, token=match.token)
        assert (refused.value.code, refused.value.status) == ("match_not_found", 404)
    with pytest.raises(MatchNotFound):
        proposal_for_token(user=desk_manager, token="not-a-token")


def test_a_partner_lists_its_proposals_in_both_directions(match, cotton, buyer, seller):
    # The buyer also sells: an offer of the buyer against a requirement of the seller.
    reverse = proposal(desk.requirement(seller, cotton), desk.availability(buyer, cotton))

    assert set(partner_proposals(user=buyer.owner)) == {match, reverse}
    assert set(partner_proposals(user=seller.owner)) == {match, reverse}

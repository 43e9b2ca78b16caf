"""The Matches screen: the desk sees both sides of its organization's proposals with the score
breakdown and the explanation, filters by commodity and score; other organizations' proposals
are not there; nothing is added, changed or deleted by hand."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.matching.services.proposals import requirement_match
from apps.matching.tests.test_engine import need, offer

pytestmark = pytest.mark.django_db

URL = "/admin/matching/matchproposal/"


@pytest.fixture
def desk(desk_manager: Any) -> Client:
    desk_manager.is_staff = True
    desk_manager.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(desk_manager)
    return client


def test_the_desk_sees_both_sides_with_the_breakdown_and_filters_by_commodity_and_score(desk, cotton, buyer, seller):
    offer(seller, cotton)
    proposal = requirement_match(requirement_id=need(buyer, cotton).pk).kept[0]

    listing = desk.get(URL, {"commodity__id__exact": str(cotton.pk), "score_band": "0.9"})
    detail = desk.get(f"{URL}{proposal.pk}/change/")
    empty = desk.get(URL, {"score_band": "low"})

    assert listing.status_code == detail.status_code == 200
    page = listing.content.decode()
    assert buyer.legal_name in page
    assert seller.legal_name in page
    assert proposal.token[:8] in page
    body = detail.content.decode()
    assert "score breakdown" in body.lower()
    assert "raw_price_per_kg" in body
    assert proposal.token[:8] not in empty.content.decode()


def test_another_organizations_desk_does_not_see_the_proposal(cotton, buyer, seller, other_org_desk_manager):
    offer(seller, cotton)
    proposal = requirement_match(requirement_id=need(buyer, cotton).pk).kept[0]
    other_org_desk_manager.is_staff = True
    other_org_desk_manager.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(other_org_desk_manager)

    assert proposal.token[:8] not in client.get(URL).content.decode()
    assert client.get(f"{URL}{proposal.pk}/change/").status_code == 302  # the admin's "does not exist" redirect

"""The trades back office: the desk sees its organization's trades with status badges, the
negotiation transcript and the audit history, and cancels or disputes through the services."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.tests.clients import staff_client
from apps.events.models import OutboxEvent
from apps.trades.models import Trade
from apps.trades.services.trades import negotiation_accept
from apps.trades.tests.factories import offer, start

CHANGELIST = "/admin/trades/trade/"


def _trade(deal: Any) -> Trade:
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner, message="Fresh crop")
    return negotiation_accept(actor=deal.seller.owner, negotiation_id=negotiation.pk)


@pytest.mark.django_db
def test_the_desk_reads_a_trade_with_its_badge_transcript_and_history(deal, desk_manager, other_org_desk_manager):
    trade = _trade(deal)
    desk = staff_client(desk_manager)

    listing = desk.get(CHANGELIST, {"status__exact": "CONFIRMED"})
    page = desk.get(f"{CHANGELIST}{trade.pk}/change/")

    assert list(listing.context["cl"].result_list) == [trade]
    assert "Confirmed</span>" in listing.content.decode()
    body = page.content.decode()
    assert "Fresh crop" in body  # the transcript
    assert "insert" in body  # the audit history's first event
    assert list(staff_client(other_org_desk_manager).get(CHANGELIST).context["cl"].result_list) == []


@pytest.mark.django_db
def test_the_desk_finds_a_trade_by_number_and_by_either_partys_code_or_name(deal, desk_manager):
    trade = _trade(deal)
    desk = staff_client(desk_manager)

    for term in (trade.number[-4:], deal.buyer.code, deal.seller.legal_name[2:10].lower()):
        found = desk.get(CHANGELIST, {"q": term})
        assert found.status_code == 200, term
        assert list(found.context["cl"].result_list) == [trade], term
    none = desk.get(CHANGELIST, {"q": "no such party"})
    assert list(none.context["cl"].result_list) == []
    assert "or its buyer&#x27;s or seller&#x27;s code or legal name" in none.content.decode()  # the search's help


@pytest.mark.django_db
def test_the_desk_cancels_from_the_admin_with_a_reason(deal, desk_manager):
    trade = _trade(deal)
    desk = staff_client(desk_manager)

    response = desk.post(f"{CHANGELIST}{trade.pk}/actions/cancel/", {"reason": "Gin sealed by the bank"}, follow=True)

    assert "Trade cancelled." in [str(m) for m in response.context["messages"]]
    trade.refresh_from_db()
    assert (trade.status, trade.cancel_reason) == ("CANCELLED", "Gin sealed by the bank")
    assert OutboxEvent.objects.filter(type="trades.trade.cancelled").count() == 1


@pytest.mark.django_db
def test_the_desk_disputes_from_the_admin(deal, desk_manager):
    trade = _trade(deal)

    staff_client(desk_manager).post(
        f"{CHANGELIST}{trade.pk}/actions/dispute/", {"reason": "Quality claim"}, follow=True
    )

    trade.refresh_from_db()
    assert (trade.status, trade.status_before_dispute, trade.dispute_reason) == (
        "DISPUTED",
        "CONFIRMED",
        "Quality claim",
    )

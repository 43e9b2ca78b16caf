"""`seed_demo`'s trades: in each demo organization two trades made through the services (one
shipped) and a negotiation in progress; a second run adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.trades.models import Negotiation, Trade


@pytest.mark.django_db
def test_seed_demo_makes_two_trades_one_in_transit_per_organization_once():
    call_command("seed_demo", stdout=io.StringIO())

    by_org = {}
    for code, status in Trade.objects.values_list("organization__code", "status"):
        by_org.setdefault(code, []).append(status)
    assert {code: sorted(statuses) for code, statuses in by_org.items()} == {
        "DFT": ["CONFIRMED", "IN_TRANSIT"],
        "SCH": ["CONFIRMED", "IN_TRANSIT"],
    }
    assert Negotiation.objects.filter(organization__code="SCH", status="IN_PROGRESS").count() == 1
    assert all(trade.number.startswith("TR/") for trade in Trade.objects.all())
    before = (Trade.objects.count(), Negotiation.objects.count())

    call_command("seed_demo", stdout=io.StringIO())

    assert (Trade.objects.count(), Negotiation.objects.count()) == before

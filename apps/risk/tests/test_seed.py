"""`seed_demo`'s risk: credit rows for every demo partner, partners in every utilisation band,
a limit change waiting for approval per organization, and a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner
from apps.risk.models import CreditAccount, ExposureEntry, LimitChange
from apps.risk.tests.factories import ledger_disagreements

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_spreads_partners_over_bands_and_a_request_waiting_and_is_idempotent() -> None:
    """Sellers keep the headroom their demo deals need (a trade books the seller's exposure too,
    and a seller over its limit fails matching's risk filter), so the demo's bands are NORMAL,
    LOW (sellers after their trades) and CRITICAL (the idle partner)."""
    first = _seed()

    assert CreditAccount.objects.count() == BusinessPartner.objects.count()
    levels = set(CreditAccount.objects.values_list("level", flat=True))
    assert {"NORMAL", "LOW", "CRITICAL"} <= levels
    assert LimitChange.objects.filter(status="PENDING").count() == 2  # one per demo organization
    assert ledger_disagreements() == []
    entries = ExposureEntry.objects.count()
    risk_events = OutboxEvent.objects.filter(type__startswith="risk.").count()

    second = _seed()

    assert ExposureEntry.objects.count() == entries
    assert OutboxEvent.objects.filter(type__startswith="risk.").count() == risk_events
    assert [line for line in first.splitlines() if line.startswith("risk:")] == [
        line for line in second.splitlines() if line.startswith("risk:")
    ]

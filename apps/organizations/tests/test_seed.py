"""`seed_demo` gives both demo organizations their master data, and a second run changes nothing."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from apps.events.models import OutboxEvent
from apps.organizations.models import BankAccount, DocumentSeries, FinancialYear, GstRegistration, Organization
from apps.organizations.validators import validate_gstin
from apps.tradedesk.models import Availability, Requirement
from apps.trades.models import Trade

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_financial_year_2026_27():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def state() -> tuple:
    return tuple(
        list(model.objects.order_by("id").values())
        for model in (Organization, GstRegistration, BankAccount, FinancialYear, DocumentSeries)
    )


def organization_events() -> int:
    return OutboxEvent.objects.filter(type__startswith="organizations.").count()


def test_seeding_gives_each_demo_organization_its_master_data_and_a_second_run_changes_nothing():
    seed()

    for code, gstin, state_code in (("SCH", "24AABCS1234C1Z3", "GJ"), ("DFT", "36AAJFD5678K1ZU", "TS")):
        organization = Organization.objects.get(code=code)
        (registration,) = GstRegistration.objects.filter(organization=organization)
        assert (registration.gstin, registration.state, registration.is_primary) == (gstin, state_code, True)
        assert validate_gstin(registration.gstin, pan=organization.pan).code == state_code
        (account,) = BankAccount.objects.filter(organization=organization)
        assert (account.is_default, account.is_active) == (True, True)
        (year,) = FinancialYear.objects.filter(organization=organization)
        assert (year.label, year.start_date, year.end_date, year.is_active) == (
            "2026-27",
            datetime.date(2026, 4, 1),
            datetime.date(2027, 3, 31),
            True,
        )
        # The trade desk's demo postings are numbered from their series (gapless: one a posting).
        availabilities = Availability.objects.filter(organization=organization).exclude(number="").count()
        requirements = Requirement.objects.filter(organization=organization).exclude(number="").count()
        assert (availabilities, requirements) == {"SCH": (6, 3), "DFT": (3, 2)}[code]
        # ... and the demo trades (trades' seeder) from the TRADE series.
        trades = Trade.objects.filter(organization=organization).count()
        assert trades == 2
        assert sorted(
            DocumentSeries.objects.filter(financial_year=year).values_list("doc_type", "prefix", "counter")
        ) == [
            ("AVAILABILITY", "AV", availabilities),
            ("CONTRACT", "CT", 0),
            ("INVOICE", "INV", 0),
            ("REQUIREMENT", "RQ", requirements),
            ("TRADE", "TR", trades),
        ]
    sch = Organization.objects.get(code="SCH")
    assert (sch.cin, sch.city, sch.state, sch.pincode) == ("U17111GJ2010PTC062345", "Rajkot", "GJ", "360003")
    first, events = state(), organization_events()

    output = seed()

    assert state() == first
    assert organization_events() == events
    assert "SCH: GSTIN 24AABCS1234C1Z3 (primary), FY 2026-27 (active), 5 series" in output
    assert "38201234567" not in output

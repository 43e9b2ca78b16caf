"""Financial years: Indian default (1 April to 31 March), labels, no overlap, one active."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from apps.events.models import OutboxEvent
from apps.organizations.errors import FieldInvalid, FinancialYearInUse
from apps.organizations.models import FinancialYear
from apps.organizations.services.financial_years import (
    financial_year_activate,
    financial_year_create,
    financial_year_label,
    financial_year_update,
    indian_financial_year,
)
from apps.organizations.services.numbering import next_document_number
from apps.organizations.tests.factories import FinancialYearFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.mark.parametrize(
    ("on", "start", "end"),
    [
        (D(2026, 11, 24), D(2026, 4, 1), D(2027, 3, 31)),
        (D(2026, 4, 1), D(2026, 4, 1), D(2027, 3, 31)),
        (D(2026, 3, 31), D(2025, 4, 1), D(2026, 3, 31)),
        (D(2027, 1, 1), D(2026, 4, 1), D(2027, 3, 31)),
    ],
)
def test_the_indian_financial_year_runs_from_1_april_to_31_march(on, start, end):
    assert indian_financial_year(on) == (start, end)


def test_labels_name_both_calendar_years_or_one():
    assert financial_year_label(D(2026, 4, 1), D(2027, 3, 31)) == "2026-27"
    assert financial_year_label(D(2099, 4, 1), D(2100, 3, 31)) == "2099-00"
    assert financial_year_label(D(2026, 1, 1), D(2026, 12, 31)) == "2026"


@time_machine.travel(datetime.datetime(2026, 11, 24, 20, 0, tzinfo=datetime.UTC), tick=False)
def test_without_dates_the_year_is_the_indian_one_containing_today(organization):
    year = financial_year_create(organization_id=organization.id)

    assert (year.label, year.start_date, year.end_date, year.is_active) == (
        "2026-27",
        D(2026, 4, 1),
        D(2027, 3, 31),
        True,
    )


@time_machine.travel(datetime.datetime(2027, 3, 31, 20, 0, tzinfo=datetime.UTC), tick=False)
def test_today_is_the_date_in_india(organization):
    # 20:00 UTC on 31 March is 01:30 on 1 April in India: the new year.
    year = financial_year_create(organization_id=organization.id)

    assert year.label == "2027-28"


def test_a_start_date_alone_gives_a_year_ending_the_day_before_its_anniversary(organization):
    year = financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    assert (year.start_date, year.end_date, year.label) == (D(2026, 4, 1), D(2027, 3, 31), "2026-27")


def test_a_year_must_end_after_it_starts(organization):
    with pytest.raises(FieldInvalid) as caught:
        financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1), end_date=D(2026, 4, 1))

    assert (caught.value.attr, caught.value.reason) == ("end_date", "end_not_after_start")
    assert not FinancialYear.objects.exists()


@pytest.mark.parametrize("start", [D(9999, 4, 1), D(9999, 12, 31)])
def test_a_start_in_9999_alone_is_refused_as_its_default_end_is_past_the_last_date(organization, start):
    """Found fuzzing the API: the default end (a year on) overflowed `date` into a 500."""
    with pytest.raises(FieldInvalid) as caught:
        financial_year_create(organization_id=organization.id, start_date=start)

    assert (caught.value.attr, caught.value.reason) == ("end_date", "required")
    assert not FinancialYear.objects.exists()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2026, 10, 1), D(2027, 9, 30)),  # starts inside
        (D(2025, 10, 1), D(2026, 4, 1)),  # ends on its first day
        (D(2027, 3, 31), D(2028, 3, 30)),  # starts on its last day
        (D(2026, 6, 1), D(2026, 6, 30)),  # inside
        (D(2025, 4, 1), D(2028, 3, 31)),  # around
    ],
)
def test_overlapping_years_are_refused_and_nothing_is_added(organization, start, end):
    financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1), end_date=D(2027, 3, 31))
    events_before = OutboxEvent.objects.count()

    with pytest.raises(FieldInvalid) as caught:
        financial_year_create(organization_id=organization.id, start_date=start, end_date=end, label="OTHER")

    assert (caught.value.attr, caught.value.reason) == ("start_date", "financial_year_overlaps")
    assert caught.value.detail == "The year overlaps financial year 2026-27 (2026-04-01 to 2027-03-31)."
    assert list(FinancialYear.objects.values_list("label", flat=True)) == ["2026-27"]
    assert OutboxEvent.objects.count() == events_before


def test_adjacent_years_do_not_overlap_and_the_first_stays_active(organization):
    first = financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))
    second = financial_year_create(organization_id=organization.id, start_date=D(2027, 4, 1))

    assert sorted(FinancialYear.objects.values_list("label", "is_active")) == [("2026-27", True), ("2027-28", False)]
    assert (first.is_active, second.is_active) == (True, False)


def test_a_duplicate_label_is_refused(organization):
    financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    with pytest.raises(FieldInvalid) as caught:
        financial_year_create(organization_id=organization.id, start_date=D(2027, 4, 1), label="2026-27")

    assert (caught.value.attr, caught.value.reason) == ("label", "unique")


def test_activating_a_year_moves_the_flag_and_emits_activated(organization):
    first = financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))
    second = financial_year_create(organization_id=organization.id, start_date=D(2027, 4, 1))
    OutboxEvent.objects.all().delete()

    financial_year_activate(organization_id=organization.id, financial_year_id=second.id)
    financial_year_activate(organization_id=organization.id, financial_year_id=second.id)  # changes nothing

    assert list(FinancialYear.objects.filter(is_active=True).values_list("label", flat=True)) == ["2027-28"]
    event = OutboxEvent.objects.get()
    assert (event.type, event.aggregate_id) == ("organizations.financial_year.activated", str(second.id))
    assert event.payload["previous_financial_year_id"] == str(first.id)
    assert event.payload["previous_label"] == "2026-27"


def test_creating_an_active_year_deactivates_the_previous_one(organization):
    financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    financial_year_create(organization_id=organization.id, start_date=D(2027, 4, 1), is_active=True)

    assert sorted(FinancialYear.objects.values_list("label", "is_active")) == [("2026-27", False), ("2027-28", True)]
    assert list(OutboxEvent.objects.order_by("position").values_list("type", flat=True)) == [
        "organizations.financial_year.created",
        "organizations.financial_year.activated",
        "organizations.financial_year.created",
        "organizations.financial_year.activated",
    ]


def test_a_year_may_be_corrected_until_its_first_document_number(organization):
    year = financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    financial_year_update(organization_id=organization.id, financial_year_id=year.id, label="fy-2026-27")
    next_document_number(organization=organization, doc_type="TRADE", on_date=D(2026, 5, 1))
    with pytest.raises(FinancialYearInUse):
        financial_year_update(organization_id=organization.id, financial_year_id=year.id, end_date=D(2027, 3, 30))

    year.refresh_from_db()
    assert (year.label, year.end_date) == ("FY-2026-27", D(2027, 3, 31))


def test_the_database_refuses_a_second_active_financial_year(organization):
    FinancialYearFactory(organization=organization)

    with pytest.raises(IntegrityError, match="financial_year_one_active"), transaction.atomic():
        FinancialYearFactory(
            organization=organization,
            label="2027-28",
            start_date=datetime.date(2027, 4, 1),
            end_date=datetime.date(2028, 3, 31),
        )


def test_the_database_refuses_overlapping_financial_years(organization):
    FinancialYearFactory(organization=organization)

    with pytest.raises(IntegrityError, match="financial_year_no_overlap"), transaction.atomic():
        FinancialYearFactory(
            organization=organization,
            label="X",
            start_date=datetime.date(2027, 3, 31),  # the last day of 2026-27: both ends count
            end_date=datetime.date(2028, 3, 30),
            is_active=False,
        )


def test_the_same_dates_in_two_organizations_do_not_overlap(organization, other_organization):
    FinancialYearFactory(organization=organization)
    FinancialYearFactory(organization=other_organization)

    assert FinancialYear.objects.count() == 2

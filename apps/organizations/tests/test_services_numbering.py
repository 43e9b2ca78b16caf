"""Gapless document numbers: `TR/2026-27/000001`, taken in the caller's transaction."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from apps.events.models import OutboxEvent
from apps.organizations.errors import (
    DocumentSeriesInUse,
    DocumentSeriesUnavailable,
    FieldInvalid,
    FinancialYearNotFound,
    NumberingOutsideTransaction,
)
from apps.organizations.models import DocumentSeries
from apps.organizations.services.document_series import document_series_create, document_series_update
from apps.organizations.services.financial_years import financial_year_create
from apps.organizations.services.numbering import next_document_number

D = datetime.date
IN_2026_27 = D(2026, 11, 24)


class Boom(Exception):
    pass


def take_then_fail(organization, taken: list[str]) -> None:
    """A caller that takes a number, then fails: its transaction rolls back."""
    with transaction.atomic():
        taken.append(next_document_number(organization=organization, doc_type="TRADE", on_date=IN_2026_27))
        raise Boom


@pytest.fixture
def year(organization):
    return financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))


@pytest.mark.django_db
def test_numbers_count_up_per_type_with_the_default_prefixes(organization, year):
    numbers = [
        next_document_number(organization=organization, doc_type=doc_type, on_date=IN_2026_27)
        for doc_type in ["TRADE", "TRADE", "CONTRACT", "INVOICE", "REQUIREMENT", "AVAILABILITY", "TRADE"]
    ]

    assert numbers == [
        "TR/2026-27/000001",
        "TR/2026-27/000002",
        "CT/2026-27/000001",
        "INV/2026-27/000001",
        "RQ/2026-27/000001",
        "AV/2026-27/000001",
        "TR/2026-27/000003",
    ]


@pytest.mark.django_db
def test_a_missing_series_is_opened_lazily_once_and_announced(organization, year):
    next_document_number(organization=organization.id, doc_type="TRADE", on_date=IN_2026_27)
    next_document_number(organization=organization.id, doc_type="TRADE", on_date=IN_2026_27)

    series = DocumentSeries.objects.get()
    assert (series.doc_type, series.prefix, series.counter, series.financial_year_id) == ("TRADE", "TR", 2, year.id)
    created = OutboxEvent.objects.get(type="organizations.document_series.created")
    assert (created.aggregate_id, created.organization_id) == (str(series.id), organization.id)
    assert created.payload == {
        "financial_year_id": str(year.id),
        "financial_year_label": "2026-27",
        "doc_type": "TRADE",
        "prefix": "TR",
        "counter": 0,
        "lazy": True,
    }


@pytest.mark.django_db
def test_an_opened_series_numbers_with_its_own_prefix(organization, year):
    document_series_create(organization_id=organization.id, financial_year_id=year.id, doc_type="INVOICE", prefix="si")

    assert next_document_number(organization=organization, doc_type="INVOICE", on_date=IN_2026_27) == (
        "SI/2026-27/000001"
    )


@pytest.mark.django_db
def test_the_number_comes_from_the_year_containing_the_date_not_the_active_one(organization, year):
    financial_year_create(organization_id=organization.id, start_date=D(2027, 4, 1), is_active=True)

    assert next_document_number(organization=organization, doc_type="TRADE", on_date=D(2027, 3, 31)) == (
        "TR/2026-27/000001"
    )
    assert next_document_number(organization=organization, doc_type="TRADE", on_date=D(2027, 4, 1)) == (
        "TR/2027-28/000001"
    )


@pytest.mark.django_db
def test_a_date_outside_every_financial_year_is_refused(organization, year):
    with pytest.raises(FinancialYearNotFound) as caught:
        next_document_number(organization=organization, doc_type="TRADE", on_date=D(2030, 5, 1))

    assert (caught.value.code, caught.value.status) == ("financial_year_not_found", 409)
    assert caught.value.detail == "No financial year of the organization contains 2030-05-01; open one first."
    assert not DocumentSeries.objects.exists()


@pytest.mark.django_db
def test_another_organizations_years_do_not_count(organization, other_organization, year):
    with pytest.raises(FinancialYearNotFound):
        next_document_number(organization=other_organization, doc_type="TRADE", on_date=IN_2026_27)


@pytest.mark.django_db
def test_a_series_whose_default_prefix_is_taken_is_refused_clearly(organization, year):
    document_series_create(organization_id=organization.id, financial_year_id=year.id, doc_type="CONTRACT", prefix="TR")

    with pytest.raises(DocumentSeriesUnavailable):
        next_document_number(organization=organization, doc_type="TRADE", on_date=IN_2026_27)


@pytest.mark.django_db
def test_two_series_of_a_year_cannot_share_a_prefix(organization, year):
    document_series_create(organization_id=organization.id, financial_year_id=year.id, doc_type="TRADE")

    with pytest.raises(FieldInvalid) as caught:
        document_series_create(
            organization_id=organization.id, financial_year_id=year.id, doc_type="CONTRACT", prefix="TR"
        )

    assert (caught.value.attr, caught.value.reason) == ("prefix", "unique")


@pytest.mark.django_db
def test_a_prefix_is_fixed_once_a_number_is_issued(organization, year):
    series = document_series_create(organization_id=organization.id, financial_year_id=year.id, doc_type="TRADE")
    document_series_update(organization_id=organization.id, document_series_id=series.id, prefix="TD")
    next_document_number(organization=organization, doc_type="TRADE", on_date=IN_2026_27)

    with pytest.raises(DocumentSeriesInUse):
        document_series_update(organization_id=organization.id, document_series_id=series.id, prefix="TX")

    series.refresh_from_db()
    assert (series.prefix, series.counter) == ("TD", 1)


@pytest.mark.django_db(transaction=True)
def test_numbering_outside_a_transaction_is_refused(organization):
    financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    with pytest.raises(NumberingOutsideTransaction):
        next_document_number(organization=organization, doc_type="TRADE", on_date=IN_2026_27)

    assert not DocumentSeries.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_caller_leaves_no_gap_even_the_one_that_opened_the_series(organization):
    financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    def take() -> str:
        with transaction.atomic():
            return next_document_number(organization=organization, doc_type="TRADE", on_date=IN_2026_27)

    lost: list[str] = []
    with pytest.raises(Boom):
        take_then_fail(organization, lost)  # opens the series lazily, then rolls back
    assert not DocumentSeries.objects.exists()
    assert not OutboxEvent.objects.filter(type="organizations.document_series.created").exists()

    first = take()
    with pytest.raises(Boom):
        take_then_fail(organization, lost)
    after = take()

    assert lost == ["TR/2026-27/000001", "TR/2026-27/000002"]
    assert (first, after) == ("TR/2026-27/000001", "TR/2026-27/000002")
    assert DocumentSeries.objects.get().counter == 2


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_callers_get_fifty_consecutive_numbers(organization, run_concurrently):
    # No series yet: the callers also race to open it (one inserts, the others wait and use it).
    financial_year_create(organization_id=organization.id, start_date=D(2026, 4, 1))

    def take() -> str:
        with transaction.atomic():
            return next_document_number(organization=organization.id, doc_type="TRADE", on_date=IN_2026_27)

    results = run_concurrently(take, times=50)

    assert [r.error for r in results] == [None] * 50
    assert sorted(r.value for r in results) == [f"TR/2026-27/{n:06d}" for n in range(1, 51)]
    assert DocumentSeries.objects.get().counter == 50
    assert OutboxEvent.objects.filter(type="organizations.document_series.created").count() == 1

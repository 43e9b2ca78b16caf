"""Document numbering: the next gapless number of a document type in a financial year."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

from django.db import connection
from django.utils import timezone

from apps.core.logging import get_logger
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    DocumentSeriesUnavailable,
    FinancialYearNotFound,
    NumberingOutsideTransaction,
)
from apps.organizations.models import (
    DEFAULT_PREFIXES,
    DocumentSeries,
    DocumentType,
    FinancialYear,
    Organization,
    format_document_number,
)
from apps.organizations.selectors import financial_year_containing

log = get_logger(__name__)


def _increment_series(*, organization_id: UUID, financial_year_id: UUID, doc_type: str) -> tuple[str, int] | None:
    """`UPDATE ... SET counter = counter + 1 ... RETURNING`: takes the series row lock until the
    caller's transaction ends, so concurrent callers queue and a rollback returns the number."""
    table = DocumentSeries._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "counter" = "counter" + 1, "updated_at" = %s '  # noqa: S608 (table name from the model)
            'WHERE "organization_id" = %s AND "financial_year_id" = %s AND "doc_type" = %s '
            'RETURNING "prefix", "counter"',
            [timezone.now(), organization_id, financial_year_id, doc_type],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _open_series_lazily(*, organization_id: UUID, financial_year: FinancialYear, doc_type: str) -> None:
    """Insert the default series unless it exists (`ON CONFLICT DO NOTHING`: a concurrent caller
    inserting the same series makes this one wait for it, then do nothing). Emits `created` only
    from the caller that inserted it."""
    table = DocumentSeries._meta.db_table
    now = timezone.now()
    prefix = DEFAULT_PREFIXES[doc_type]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("id", "created_at", "updated_at", "organization_id", "financial_year_id", '  # noqa: S608
            '"doc_type", "prefix", "counter") VALUES (%s, %s, %s, %s, %s, %s, %s, 0) '
            'ON CONFLICT DO NOTHING RETURNING "id"',
            [uuid.uuid4(), now, now, organization_id, financial_year.id, doc_type, prefix],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return
    series = DocumentSeries(
        id=inserted[0],
        organization_id=organization_id,
        financial_year=financial_year,
        doc_type=doc_type,
        prefix=prefix,
        counter=0,
    )
    emit(
        events.DOCUMENT_SERIES_CREATED,
        aggregate=series,
        payload={**events.document_series_payload(series, financial_year_label=financial_year.label), "lazy": True},
    )


def next_document_number(*, organization: Organization | UUID, doc_type: str, on_date: date) -> str:
    """The next number of `doc_type` in the organization's financial year containing `on_date`:
    `TR/2026-27/000001`.

    Runs in the caller's transaction (refused outside one): the increment commits with the
    document that uses the number, and a rollback gives it back, so numbers are gapless. The
    series row stays locked until that transaction ends: take the number last, right before
    saving the document. A series that does not exist yet is opened with the default prefix (and
    `organizations.document_series.created` emitted). Refuses a date outside every financial year
    of the organization (409 `financial_year_not_found`).
    """
    if not connection.in_atomic_block:
        raise NumberingOutsideTransaction(
            "next_document_number() must run inside the transaction that saves the document"
        )
    if doc_type not in DocumentType.values:
        raise ValueError(f"unknown document type {doc_type!r}")
    organization_id: UUID = organization.pk if isinstance(organization, Organization) else organization
    year = financial_year_containing(organization_id=organization_id, on_date=on_date)
    if year is None:
        raise FinancialYearNotFound(
            f"No financial year of the organization contains {on_date.isoformat()}; open one first."
        )
    taken = _increment_series(organization_id=organization_id, financial_year_id=year.id, doc_type=doc_type)
    if taken is None:
        _open_series_lazily(organization_id=organization_id, financial_year=year, doc_type=doc_type)
        taken = _increment_series(organization_id=organization_id, financial_year_id=year.id, doc_type=doc_type)
    if taken is None:
        raise DocumentSeriesUnavailable(
            f"Financial year {year.label} has no {doc_type.lower()} series, and its default prefix "
            f"{DEFAULT_PREFIXES[doc_type]} is used by another series; open the series with its own prefix."
        )
    prefix, counter = taken
    return format_document_number(prefix, year.label, counter)

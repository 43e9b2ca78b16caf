"""Use cases of an organization's document series: open one, change its prefix."""

from __future__ import annotations

import re
from uuid import UUID

from django.db import transaction

from apps.core.actors import Actor
from apps.core.logging import get_logger
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    DocumentSeriesInUse,
    FieldInvalid,
)
from apps.organizations.locks import lock_child, lock_organization
from apps.organizations.models import (
    DEFAULT_PREFIXES,
    PREFIX_RE,
    DocumentSeries,
    DocumentType,
    FinancialYear,
)
from apps.organizations.permissions import (
    ADD,
    CHANGE,
    DOCUMENT_SERIES,
    ensure_can_change_master_data,
)
from apps.organizations.services.common import (
    apply_changes,
    changed_fields,
)
from apps.organizations.validators import (
    normalize_identifier,
)

log = get_logger(__name__)


def _clean_prefix(prefix: str) -> str:
    prefix = normalize_identifier(prefix)
    if not re.match(PREFIX_RE, prefix):
        raise FieldInvalid(
            "prefix",
            "invalid_prefix",
            "A prefix is 1 to 10 capitals, digits and dashes, starting with a letter or digit.",
        )
    return prefix


def _check_prefix_free(*, financial_year: FinancialYear, prefix: str, exclude_pk: UUID | None = None) -> None:
    taken = DocumentSeries.objects.filter(financial_year=financial_year, prefix=prefix)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise FieldInvalid(
            "prefix", "unique", f"Another series of financial year {financial_year.label} uses the prefix {prefix}."
        )


def document_series_create(
    *, organization_id: UUID, financial_year_id: UUID, doc_type: str, prefix: str = "", actor: Actor | None = None
) -> DocumentSeries:
    """Open the series of one document type in one financial year (prefix default: TR, CT, INV,
    RQ, AV). Series missing when a number is asked for are opened by `next_document_number`."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=ADD, model=DOCUMENT_SERIES)
    if doc_type not in DocumentType.values:
        raise FieldInvalid("doc_type", "invalid_choice", f"Use one of {', '.join(DocumentType.values)}.")
    prefix = _clean_prefix(prefix or DEFAULT_PREFIXES[doc_type])
    with transaction.atomic():
        organization = lock_organization(organization_id)
        year = FinancialYear.objects.filter(organization=organization, pk=financial_year_id).first()
        if year is None:
            raise FieldInvalid("financial_year", "does_not_exist", "No such financial year in this organization.")
        if DocumentSeries.objects.filter(financial_year=year, doc_type=doc_type).exists():
            raise FieldInvalid(
                "doc_type", "unique", f"Financial year {year.label} already has a {doc_type.lower()} series."
            )
        _check_prefix_free(financial_year=year, prefix=prefix)
        series = DocumentSeries.objects.create(
            organization=organization, financial_year=year, doc_type=doc_type, prefix=prefix
        )
        emit(
            events.DOCUMENT_SERIES_CREATED,
            aggregate=series,
            actor=actor,
            payload=events.document_series_payload(series, financial_year_label=year.label),
        )
    return series


def document_series_update(
    *, organization_id: UUID, document_series_id: UUID, prefix: str, actor: Actor | None = None
) -> DocumentSeries:
    """Change a series' prefix, only before its first number (409 after: printed numbers would
    change their look mid-year, and a freed prefix could be reused by another type)."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=CHANGE, model=DOCUMENT_SERIES)
    prefix = _clean_prefix(prefix)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        series = lock_child(
            DocumentSeries, organization_id=organization.id, pk=document_series_id, what="document series"
        )
        changed = changed_fields(series, {"prefix": prefix})
        if not changed:
            return series
        if series.counter > 0:
            raise DocumentSeriesInUse()
        year = series.financial_year
        _check_prefix_free(financial_year=year, prefix=prefix, exclude_pk=series.pk)
        apply_changes(series, changed, {"prefix": prefix})
        emit(
            events.DOCUMENT_SERIES_UPDATED,
            aggregate=series,
            actor=actor,
            payload={**events.document_series_payload(series, financial_year_label=year.label), "changed": changed},
        )
    return series

"""Reads of organizations and their master data, scoped to the caller (permissions.py).

`organization_get` is the gate of every endpoint under `/organizations/{id}/`: 404 when the
caller may not see the organization, then 403 without the permission the operation needs.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet

from apps.core.errors import NotFound
from apps.organizations.models import BankAccount, DocumentSeries, FinancialYear, GstRegistration, Organization
from apps.organizations.permissions import (
    BANK_ACCOUNT,
    DOCUMENT_SERIES,
    FINANCIAL_YEAR,
    GST_REGISTRATION,
    ORGANIZATION,
    VIEW,
    ensure_can_list_organizations,
    ensure_has_perm,
    organization_scope,
)

M = TypeVar("M", bound=Model)


def organization_by_code(code: str) -> Organization | None:
    """An active organization by its public code (case-insensitive), or None."""
    return Organization.objects.filter(code=code.strip().upper(), is_active=True).first()


def organizations_visible_to(user: Any) -> QuerySet[Organization]:
    """Every organization for platform admins, their own for staff; 403 for anyone else."""
    return Organization.objects.filter(ensure_can_list_organizations(user))


def organization_get(
    *, user: Any, organization_id: UUID, action: str = VIEW, model: str = ORGANIZATION
) -> Organization:
    """The organization, if `user` may see it (404 otherwise) and holds `organizations.<action>_<model>` (403)."""
    scope = organization_scope(user)
    organization = None if scope is None else Organization.objects.filter(scope, pk=organization_id).first()
    if organization is None:
        raise NotFound("No such organization.")
    ensure_has_perm(user, action, model)
    return organization


def _child_get(queryset: QuerySet[M], *, organization_id: UUID, pk: UUID, what: str) -> M:
    row = queryset.filter(organization_id=organization_id, pk=pk).first()
    if row is None:
        raise NotFound(f"No such {what} in this organization.")
    return row


def gst_registrations_of(*, user: Any, organization_id: UUID) -> QuerySet[GstRegistration]:
    organization = organization_get(user=user, organization_id=organization_id, model=GST_REGISTRATION)
    return GstRegistration.objects.filter(organization=organization)


def gst_registration_get(*, user: Any, organization_id: UUID, gst_registration_id: UUID) -> GstRegistration:
    organization_get(user=user, organization_id=organization_id, model=GST_REGISTRATION)
    return _child_get(
        GstRegistration.objects.all(), organization_id=organization_id, pk=gst_registration_id, what="GST registration"
    )


def bank_accounts_of(*, user: Any, organization_id: UUID) -> QuerySet[BankAccount]:
    organization = organization_get(user=user, organization_id=organization_id, model=BANK_ACCOUNT)
    return BankAccount.objects.filter(organization=organization)


def bank_account_get(*, user: Any, organization_id: UUID, bank_account_id: UUID) -> BankAccount:
    organization_get(user=user, organization_id=organization_id, model=BANK_ACCOUNT)
    return _child_get(
        BankAccount.objects.all(), organization_id=organization_id, pk=bank_account_id, what="bank account"
    )


def financial_years_of(*, user: Any, organization_id: UUID) -> QuerySet[FinancialYear]:
    organization = organization_get(user=user, organization_id=organization_id, model=FINANCIAL_YEAR)
    return FinancialYear.objects.filter(organization=organization)


def financial_year_get(*, user: Any, organization_id: UUID, financial_year_id: UUID) -> FinancialYear:
    organization_get(user=user, organization_id=organization_id, model=FINANCIAL_YEAR)
    return _child_get(
        FinancialYear.objects.all(), organization_id=organization_id, pk=financial_year_id, what="financial year"
    )


def document_series_of(
    *, user: Any, organization_id: UUID, financial_year_id: UUID | None = None, doc_type: str | None = None
) -> QuerySet[DocumentSeries]:
    organization = organization_get(user=user, organization_id=organization_id, model=DOCUMENT_SERIES)
    queryset = DocumentSeries.objects.filter(organization=organization).select_related("financial_year")
    if financial_year_id is not None:
        queryset = queryset.filter(financial_year_id=financial_year_id)
    if doc_type:
        queryset = queryset.filter(doc_type=doc_type)
    return queryset


def document_series_get(*, user: Any, organization_id: UUID, document_series_id: UUID) -> DocumentSeries:
    organization_get(user=user, organization_id=organization_id, model=DOCUMENT_SERIES)
    return _child_get(
        DocumentSeries.objects.select_related("financial_year"),
        organization_id=organization_id,
        pk=document_series_id,
        what="document series",
    )


def financial_year_containing(*, organization_id: UUID, on_date: date) -> FinancialYear | None:
    """The organization's financial year that contains `on_date` (years never overlap), or None."""
    return FinancialYear.objects.filter(
        organization_id=organization_id, start_date__lte=on_date, end_date__gte=on_date
    ).first()

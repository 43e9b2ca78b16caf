"""Event types of the organizations app and their payloads.

Payloads are thin and JSON-safe. A bank account's number never leaves in an event: only its last
four digits.
"""

from __future__ import annotations

from typing import Any

from apps.organizations.models import BankAccount, DocumentSeries, FinancialYear, GstRegistration, Organization

ORGANIZATION_CREATED = "organizations.organization.created"
ORGANIZATION_UPDATED = "organizations.organization.updated"
GST_REGISTRATION_CREATED = "organizations.gst_registration.created"
GST_REGISTRATION_UPDATED = "organizations.gst_registration.updated"
BANK_ACCOUNT_CREATED = "organizations.bank_account.created"
BANK_ACCOUNT_UPDATED = "organizations.bank_account.updated"
FINANCIAL_YEAR_CREATED = "organizations.financial_year.created"
FINANCIAL_YEAR_UPDATED = "organizations.financial_year.updated"
FINANCIAL_YEAR_ACTIVATED = "organizations.financial_year.activated"
DOCUMENT_SERIES_CREATED = "organizations.document_series.created"
DOCUMENT_SERIES_UPDATED = "organizations.document_series.updated"


def organization_payload(organization: Organization) -> dict[str, Any]:
    return {"code": organization.code, "name": organization.name, "is_active": organization.is_active}


def gst_registration_payload(registration: GstRegistration) -> dict[str, Any]:
    return {
        "gstin": registration.gstin,
        "state": registration.state,
        "is_primary": registration.is_primary,
        "is_active": registration.is_active,
    }


def bank_account_payload(account: BankAccount) -> dict[str, Any]:
    return {
        "holder_name": account.holder_name,
        "bank_name": account.bank_name,
        "ifsc": account.ifsc,
        "account_number_last4": account.account_number[-4:],
        "is_default": account.is_default,
        "is_active": account.is_active,
    }


def financial_year_payload(year: FinancialYear) -> dict[str, Any]:
    return {
        "label": year.label,
        "start_date": year.start_date.isoformat(),
        "end_date": year.end_date.isoformat(),
        "is_active": year.is_active,
    }


def document_series_payload(series: DocumentSeries, *, financial_year_label: str) -> dict[str, Any]:
    return {
        "financial_year_id": str(series.financial_year_id),
        "financial_year_label": financial_year_label,
        "doc_type": series.doc_type,
        "prefix": series.prefix,
        "counter": series.counter,
    }

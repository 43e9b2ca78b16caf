"""Demo organizations with their profile and master data: a primary GST registration (a valid
GSTIN built from the PAN), a default bank account, the current financial year (active) and a
document series of every type in it. Idempotent: a second run finds everything and changes nothing.
"""

from __future__ import annotations

from typing import Any

from apps.core.seeding import SeedReport
from apps.organizations.models import BankAccount, DocumentSeries, DocumentType, GstRegistration, Organization
from apps.organizations.selectors import financial_year_containing
from apps.organizations.services.bank_accounts import bank_account_create
from apps.organizations.services.document_series import document_series_create
from apps.organizations.services.financial_years import (
    financial_year_activate,
    financial_year_create,
    india_today,
    indian_financial_year,
)
from apps.organizations.services.gst_registrations import gst_registration_create
from apps.organizations.services.organizations import organization_create, organization_update
from apps.organizations.validators import gstin_check_char

DEMO_ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "code": "SCH",
        "name": "Saurashtra Cotton House",
        "legal_name": "Saurashtra Cotton House Private Limited",
        "pan": "AABCS1234C",
        "cin": "U17111GJ2010PTC062345",
        "address_line1": "Plot 12, Cotton Market Yard",
        "address_line2": "Gondal Road",
        "city": "Rajkot",
        "state": "GJ",
        "pincode": "360003",
        "contact_email": "accounts@sch.cotton-erp.test",
        "contact_phone": "+912812345678",
    },
    {
        "code": "DFT",
        "name": "Deccan Fibre Traders",
        "legal_name": "Deccan Fibre Traders LLP",
        "pan": "AAJFD5678K",
        "address_line1": "4-1-22, Market Road",
        "city": "Adilabad",
        "state": "TS",
        "pincode": "504001",
        "contact_email": "accounts@dft.cotton-erp.test",
        "contact_phone": "+918732234567",
    },
]

# code -> the GST state code of its primary registration and its default bank account.
DEMO_MASTER_DATA: dict[str, dict[str, Any]] = {
    "SCH": {
        "gst_state_code": "24",
        "bank_account": {
            "holder_name": "Saurashtra Cotton House Private Limited",
            "bank_name": "State Bank of India",
            "branch": "Rajkot Main",
            "account_number": "38201234567",
            "ifsc": "SBIN0000452",
        },
    },
    "DFT": {
        "gst_state_code": "36",
        "bank_account": {
            "holder_name": "Deccan Fibre Traders LLP",
            "bank_name": "HDFC Bank",
            "branch": "Adilabad",
            "account_number": "50200012345678",
            "ifsc": "HDFC0001234",
        },
    },
}


def demo_gstin(gst_state_code: str, pan: str, entity_number: str = "1") -> str:
    """A GSTIN with a correct check character: state code, PAN, entity number, Z, check."""
    first14 = f"{gst_state_code}{pan}{entity_number}Z"
    return first14 + gstin_check_char(first14)


def _seed_master_data(organization: Organization, spec: dict[str, Any]) -> str:
    gstin = demo_gstin(spec["gst_state_code"], organization.pan)
    if not GstRegistration.objects.filter(organization=organization, gstin=gstin).exists():
        gst_registration_create(organization_id=organization.id, gstin=gstin, is_primary=True)

    bank = spec["bank_account"]
    if not BankAccount.objects.filter(
        organization=organization, ifsc=bank["ifsc"], account_number=bank["account_number"]
    ).exists():
        bank_account_create(organization_id=organization.id, is_default=True, **bank)

    today = india_today()
    year = financial_year_containing(organization_id=organization.id, on_date=today)
    if year is None:
        start_date, end_date = indian_financial_year(today)
        year = financial_year_create(
            organization_id=organization.id, start_date=start_date, end_date=end_date, is_active=True
        )
    elif not year.is_active:
        year = financial_year_activate(organization_id=organization.id, financial_year_id=year.id)

    existing = set(DocumentSeries.objects.filter(financial_year=year).values_list("doc_type", flat=True))
    for doc_type in DocumentType.values:
        if doc_type not in existing:
            document_series_create(organization_id=organization.id, financial_year_id=year.id, doc_type=doc_type)
    return f"{organization.code}: GSTIN {gstin} (primary), FY {year.label} (active), {len(DocumentType.values)} series"


def seed_organizations(report: SeedReport) -> None:
    organizations = []
    for spec in DEMO_ORGANIZATIONS:
        existing = Organization.objects.filter(code=spec["code"]).first()
        if existing is None:
            organization = organization_create(**spec)
        else:
            organization = organization_update(
                organization_id=existing.id, **{k: v for k, v in spec.items() if k != "code"}
            )
        organizations.append(organization)
    report.context["organizations"] = organizations
    report.lines.append("organizations: " + ", ".join(f"{o.name} (code {o.code})" for o in organizations))
    for organization in organizations:
        report.lines.append("  " + _seed_master_data(organization, DEMO_MASTER_DATA[organization.code]))

"""The tenant and its master data: profile, GST registrations, bank accounts, financial years and
document series.

Invariants live in the database: one primary GST registration, one default bank account and one
active financial year per organization (partial unique indexes); no two financial years of an
organization overlap (an exclusion constraint over their date ranges); a series' prefix is unique
within its financial year, so two document types can never print the same number. The services
move the flags and check the rest first, so people see a clear field error, not an IntegrityError.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Lower

from apps.core.audit import tracked
from apps.core.india import STATES
from apps.core.masking import MASK
from apps.core.models import BaseModel
from apps.organizations.validators import (
    BANK_ACCOUNT_NUMBER_RE,
    CIN_RE,
    GSTIN_RE,
    IFSC_RE,
    PAN_RE,
)

STATE_CHOICES = [(state.code, state.name) for state in STATES]
PREFIX_RE = r"^[A-Z0-9][A-Z0-9-]{0,9}$"
LABEL_RE = r"^[A-Z0-9][A-Z0-9-]{0,19}$"
NUMBER_DIGITS = 6


def mask_account_number(account_number: str) -> str:
    """`***` and the last four digits: what the API, the admin and the logs show."""
    return f"{MASK}{account_number[-4:]}" if account_number else ""


def format_document_number(prefix: str, financial_year_label: str, counter: int) -> str:
    """`TR/2026-27/000001`."""
    return f"{prefix}/{financial_year_label}/{counter:0{NUMBER_DIGITS}d}"


class DateRange(Func):
    """`DATERANGE(start, end, '[]')`: the days of a financial year, both ends included."""

    function = "DATERANGE"
    output_field = DateRangeField()


# Audit history (apps.core.audit): a snapshot on insert and on every change of a field.
@tracked()
class Organization(BaseModel):
    """A trading house or brokerage running its own desk on the shared deployment."""

    # Public code: what an applicant types to say which organization it applies to.
    code = models.CharField(
        max_length=20, unique=True, help_text="Public code, e.g. SCH. Upper-case letters, digits, dashes."
    )
    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    pan = models.CharField("PAN", max_length=10, blank=True)
    cin = models.CharField("CIN", max_length=21, blank=True, help_text="Companies only; LLPs and firms leave it blank.")
    base_currency = models.CharField(max_length=3, default="INR")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, choices=STATE_CHOICES, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +912812345678")
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_name_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{1,19}$"), name="organization_code_format"
            ),
            models.CheckConstraint(condition=Q(pan="") | Q(pan__regex=PAN_RE.pattern), name="organization_pan_format"),
            models.CheckConstraint(condition=Q(cin="") | Q(cin__regex=CIN_RE.pattern), name="organization_cin_format"),
            models.CheckConstraint(
                condition=Q(pincode="") | Q(pincode__regex=r"^[1-9][0-9]{5}$"), name="organization_pincode_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@tracked()
class GstRegistration(BaseModel):
    """One GSTIN of the organization (one per state it trades from). Registrations are deactivated,
    never deleted: invoices will point at them."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="gst_registrations")
    gstin = models.CharField("GSTIN", max_length=15)
    state = models.CharField(max_length=2, choices=STATE_CHOICES, help_text="From the GSTIN's first two digits.")
    is_primary = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "GST registration"
        constraints = [
            models.UniqueConstraint(fields=["organization", "gstin"], name="gst_registration_unique_gstin"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_primary=True), name="gst_registration_one_primary"
            ),
            models.CheckConstraint(condition=Q(gstin__regex=GSTIN_RE.pattern), name="gst_registration_gstin_format"),
            models.CheckConstraint(
                condition=Q(is_primary=False) | Q(is_active=True), name="gst_registration_primary_is_active"
            ),
        ]

    def __str__(self) -> str:
        return f"GSTIN {self.gstin}" + (" (primary)" if self.is_primary else "")


@tracked()
class BankAccount(BaseModel):
    """An account the organization is paid into. The number is shown masked everywhere."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="bank_accounts")
    holder_name = models.CharField(max_length=200)
    bank_name = models.CharField(max_length=200)
    branch = models.CharField(max_length=200, blank=True)
    account_number = models.CharField(max_length=18)
    ifsc = models.CharField("IFSC", max_length=11)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "ifsc", "account_number"], name="bank_account_unique"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="bank_account_one_default"
            ),
            models.CheckConstraint(
                condition=Q(account_number__regex=BANK_ACCOUNT_NUMBER_RE.pattern), name="bank_account_number_format"
            ),
            models.CheckConstraint(condition=Q(ifsc__regex=IFSC_RE.pattern), name="bank_account_ifsc_format"),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(is_active=True), name="bank_account_default_is_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.account_number_masked}"

    @property
    def account_number_masked(self) -> str:
        return mask_account_number(self.account_number)


@tracked()
class FinancialYear(BaseModel):
    """An accounting year, both ends included (Indian default: 1 April to 31 March)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="financial_years")
    label = models.CharField(max_length=20, help_text="Printed in document numbers, e.g. 2026-27.")
    start_date = models.DateField()
    end_date = models.DateField(help_text="The last day of the year.")
    is_active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="financial_year_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(label__regex=LABEL_RE), name="financial_year_label_format"),
            models.UniqueConstraint(fields=["organization", "label"], name="financial_year_unique_label"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_active=True), name="financial_year_one_active"
            ),
            ExclusionConstraint(
                name="financial_year_no_overlap",
                expressions=[
                    (DateRange("start_date", "end_date", RangeBoundary(inclusive_upper=True)), RangeOperators.OVERLAPS),
                    ("organization", RangeOperators.EQUAL),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"FY {self.label}" + (" (active)" if self.is_active else "")


class DocumentType(models.TextChoices):
    TRADE = "TRADE", "Trade"
    CONTRACT = "CONTRACT", "Contract"
    INVOICE = "INVOICE", "Invoice"
    REQUIREMENT = "REQUIREMENT", "Requirement"
    AVAILABILITY = "AVAILABILITY", "Availability"


DEFAULT_PREFIXES: dict[str, str] = {
    DocumentType.TRADE: "TR",
    DocumentType.CONTRACT: "CT",
    DocumentType.INVOICE: "INV",
    DocumentType.REQUIREMENT: "RQ",
    DocumentType.AVAILABILITY: "AV",
}


@tracked()
class DocumentSeries(BaseModel):
    """Gapless numbering of one document type in one financial year: `PREFIX/2026-27/000001`.

    `counter` is the last number issued and moves only in `services.next_document_number`.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="document_series")
    financial_year = models.ForeignKey(FinancialYear, on_delete=models.PROTECT, related_name="document_series")
    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    prefix = models.CharField(max_length=10, help_text="Upper-case letters, digits, dashes; e.g. TR.")
    counter = models.PositiveIntegerField(default=0, help_text="The last number issued; 0 before the first.")

    class Meta:
        verbose_name_plural = "document series"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "financial_year", "doc_type"], name="document_series_unique_type"
            ),
            models.UniqueConstraint(
                fields=["organization", "financial_year", "prefix"], name="document_series_unique_prefix"
            ),
            models.CheckConstraint(condition=Q(prefix__regex=PREFIX_RE), name="document_series_prefix_format"),
            models.CheckConstraint(condition=Q(counter__gte=0), name="document_series_counter_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} series {self.prefix}"

"""Refusals of the organizations app, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from apps.core.errors import Conflict, DomainError

VALIDATION_FAILED = "validation_failed"


class FieldInvalid(DomainError):
    """One field's value is refused: 400 `validation_failed`, like a serializer error, with
    `errors[0].attr` naming the field and `errors[0].code` saying why."""

    code = VALIDATION_FAILED
    status = 400
    default_detail = "The request has invalid fields; see errors."

    def __init__(self, attr: str | None, reason: str, detail: str) -> None:
        super().__init__(detail, errors=[{"attr": attr, "code": reason, "detail": detail}])
        self.attr = attr
        self.reason = reason


class FlagHolderRequired(Conflict):
    """Clearing the one primary/default/active flag directly would leave the organization without
    one: the flag moves by setting it on another row."""

    code = "flag_holder_required"


class PrimaryGstRegistrationRequired(FlagHolderRequired):
    code = "primary_gst_registration_required"
    default_detail = "An organization keeps one primary GST registration: make another registration primary first."


class DefaultBankAccountRequired(FlagHolderRequired):
    code = "default_bank_account_required"
    default_detail = "An organization keeps one default bank account: make another account the default first."


class ActiveFinancialYearRequired(FlagHolderRequired):
    code = "active_financial_year_required"
    default_detail = "An organization keeps one active financial year: activate another year instead."


class FinancialYearNotFound(DomainError):
    code = "financial_year_not_found"
    status = 409
    default_detail = "No financial year of the organization contains the date."


class FinancialYearInUse(Conflict):
    code = "financial_year_in_use"
    default_detail = "Document numbers have been issued in this financial year; its dates and label are fixed."


class DocumentSeriesInUse(Conflict):
    code = "document_series_in_use"
    default_detail = "Numbers have been issued from this series; its prefix is fixed."


class DocumentSeriesUnavailable(Conflict):
    code = "document_series_unavailable"
    default_detail = "The document series could not be created; its default prefix is taken."


class NumberingOutsideTransaction(RuntimeError):
    """A programming error, not a request error: a document number must be taken in the
    transaction that saves the document, or a rollback would leave a gap."""

"""Refusals of the partners app, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from apps.core.errors import Conflict, DomainError, NotFound


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    default_detail = "No such onboarding application."


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    default_detail = "No such partner."


class DocumentNotFound(NotFound):
    code = "document_not_found"
    default_detail = "No such document."


class NotAnApplicant(DomainError):
    code = "not_an_applicant"
    status = 403
    default_detail = "Only an external user without a partner may apply for onboarding."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_detail = "The application is not in a state that allows this."


class DocumentTypeNotAllowed(DomainError):
    code = "document_type_not_allowed"
    status = 400
    default_detail = "Only PDF, JPEG and PNG files are accepted (checked by their content)."


class DocumentTooLarge(DomainError):
    code = "document_too_large"
    status = 400
    default_detail = "The file is too large."


class DocumentsMissing(DomainError):
    code = "documents_missing"
    status = 400
    default_detail = "Required documents are missing."


class MakerCheckerViolation(Conflict):
    code = "maker_checker_violation"
    default_detail = "The person who keyed or reviewed an application cannot also approve it."


class DuplicateActiveGstin(Conflict):
    code = "duplicate_active_gstin"
    default_detail = "An active partner already has this GSTIN."


class PartnerSuspended(DomainError):
    code = "partner_suspended"
    status = 403
    default_detail = "The partner is suspended: its users may read but not change anything."


class PartnerBlocked(DomainError):
    code = "partner_blocked"
    status = 403
    default_detail = "The partner is blocked."

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


# --- branches and vehicles ----------------------------------------------------------------------


class BranchNotFound(NotFound):
    code = "branch_not_found"
    default_detail = "No such branch of this partner."


class BranchCodeTaken(Conflict):
    code = "branch_code_taken"
    default_detail = "The partner already has a branch with this code (active or not); choose another code."


class BranchInactive(Conflict):
    code = "branch_inactive"
    default_detail = "The branch is deactivated; it can no longer be changed."


class HeadOfficeExists(Conflict):
    code = "head_office_exists"
    default_detail = "The partner already has an active head office; a partner has one."


class HeadOfficeNotDeactivatable(Conflict):
    code = "head_office_cannot_be_deactivated"
    default_detail = "The head office cannot be deactivated."


class DefaultBranchNotDeactivatable(Conflict):
    code = "default_branch_cannot_be_deactivated"
    default_detail = "The branch is a default ship-to or ship-from: make another branch the default first."


class DefaultShipToRequired(Conflict):
    code = "default_ship_to_required"
    default_detail = (
        "A partner keeps one default ship-to branch: make another branch the default ship-to instead of clearing it."
    )


class DefaultShipFromRequired(Conflict):
    code = "default_ship_from_required"
    default_detail = (
        "A partner keeps one default ship-from branch: make another branch the default ship-from "
        "instead of clearing it."
    )


class VehicleNotFound(NotFound):
    code = "vehicle_not_found"
    default_detail = "No such vehicle of this partner."


class NotATransporter(Conflict):
    code = "not_a_transporter"
    default_detail = "Only a transporter (a service provider of service type TRANSPORTER) may register vehicles."


class InvalidRegistrationNumber(DomainError):
    code = "invalid_registration_number"
    status = 400
    default_detail = (
        "A registration number is 2 letters (state), 2 digits (district), 1 or 2 letters and 4 digits, "
        "e.g. GJ03AB1234 (spaces and dashes are ignored)."
    )


class VehicleAlreadyRegistered(Conflict):
    code = "vehicle_already_registered"
    default_detail = "An active vehicle with this registration number is already registered."


class VehicleInactive(Conflict):
    code = "vehicle_inactive"
    default_detail = "The vehicle is deactivated; it can no longer be changed."


# --- profile, employees and status ------------------------------------------------------------


class FieldRequiresAmendment(DomainError):
    """The profile PATCH names fields that only an approved amendment (or the back office) may
    change; `errors` lists each of them."""

    code = "field_requires_amendment"
    status = 400
    default_detail = (
        "Legal, tax, bank, address, credit and status fields change only through an amendment approved by "
        "the back office; the profile accepts trade_name, contact_name, contact_email, contact_phone and "
        "commodity_ids."
    )


class UnknownFields(DomainError):
    code = "validation_failed"
    status = 400
    default_detail = "The request names fields that do not exist; see errors."


class EmployeeNotFound(NotFound):
    code = "employee_not_found"
    default_detail = "No such user of this partner."


class PartnerUserLimitReached(Conflict):
    code = "partner_user_limit_reached"
    default_detail = "The partner already has its maximum number of active users."


class MobileInUse(Conflict):
    code = "mobile_in_use"
    default_detail = "This mobile number already belongs to a user."


class LastOwner(Conflict):
    code = "last_owner"
    default_detail = "A partner keeps at least one active owner: make another user owner first."


class EmployeeDisabled(Conflict):
    code = "employee_disabled"
    default_detail = "The user is disabled; enable it first."


class EmployeeAlreadyDisabled(Conflict):
    code = "employee_already_disabled"
    default_detail = "The user is already disabled."


class EmployeeAlreadyActive(Conflict):
    code = "employee_already_active"
    default_detail = "The user is already active."


class PartnerStatusUnchanged(Conflict):
    code = "status_unchanged"
    default_detail = "The partner already has this status."


class InvalidStatusTransition(Conflict):
    code = "invalid_status_transition"
    default_detail = "This status change is not allowed."


# --- amendments ---------------------------------------------------------------------------------


class AmendmentNotFound(NotFound):
    code = "amendment_not_found"
    default_detail = "No such amendment of this partner."


class AmendmentAlreadyPending(Conflict):
    code = "amendment_already_pending"
    default_detail = (
        "An amendment of this kind is already pending for the partner: wait for its decision or cancel it first."
    )


class AmendmentNotPending(Conflict):
    code = "amendment_not_pending"
    default_detail = "The amendment has already been decided or cancelled."


class AmendmentStale(Conflict):
    code = "amendment_stale"
    default_detail = (
        "The partner's values changed since the amendment was requested, so it no longer applies: reject it "
        "and ask for a new one."
    )


class AmendmentValuesInvalid(DomainError):
    """`new_values` names fields the kind lacks, misses required ones or has invalid values; `errors`
    lists each (attr `new_values.<field>`)."""

    code = "validation_failed"
    status = 400
    default_detail = "The amendment's new values are invalid; see errors."


class AmendmentWithoutChange(DomainError):
    code = "amendment_without_change"
    status = 400
    default_detail = "The new values equal the partner's current values: there is nothing to amend."


class BranchGstinsOnOldPan(Conflict):
    code = "branch_gstins_on_old_pan"
    default_detail = (
        "Other-state branches carry GSTINs of the partner's current PAN; deactivate them before the PAN changes."
    )


# --- corporate groups, master partners and KYC-officer assignment ----------------------------


class MasterPartnerNotFound(NotFound):
    code = "master_partner_not_found"
    default_detail = "No such master partner in the partner's organization."


class MasterIsSelf(Conflict):
    code = "master_is_self"
    default_detail = "A partner cannot be its own master."


class MasterHasMaster(Conflict):
    code = "master_has_master"
    default_detail = (
        "The chosen master is itself a branch of another partner; choose that partner (masters have one level)."
    )


class PartnerHasBranches(Conflict):
    code = "partner_has_branches"
    default_detail = (
        "The partner is the master of other partners, so it cannot become a branch itself; "
        "move its branches first (masters have one level)."
    )


class CorporateGroupNotFound(NotFound):
    code = "corporate_group_not_found"
    default_detail = "No such corporate group in the partner's organization."


class CorporateGroupNameTaken(Conflict):
    code = "corporate_group_name_taken"
    default_detail = "The organization already has a corporate group of this name."


class ApplicationNotAssignable(Conflict):
    code = "application_not_assignable"
    default_detail = "Only a submitted, under-review or info-requested application can be assigned."

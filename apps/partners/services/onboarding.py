"""Partner use cases: onboarding applications (applicant side and back office) and approval.

Every write runs in its own `transaction.atomic()` and emits its event there. Locking order:
application row, then its documents, then the organization's partner-code counter. OCR runs
before the transaction (no I/O inside one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.organizations.validators import normalize_identifier, validate_gstin, validate_ifsc, validate_pan
from apps.partners import events, gst, ocr
from apps.partners.documents import DEFAULT_MAX_BYTES, required_documents, sniff_content_type
from apps.partners.errors import (
    ApplicationNotFound,
    DocumentNotFound,
    DocumentsMissing,
    DocumentTooLarge,
    DocumentTypeNotAllowed,
    DuplicateActiveGstin,
    InvalidTransition,
)
from apps.partners.models import (
    ApplicationState,
    Branch,
    BranchType,
    BusinessPartner,
    BusinessType,
    DocumentStatus,
    EntityClass,
    KycStatus,
    MembershipRole,
    OnboardingApplication,
    PartnerCodeCounter,
    PartnerDocument,
    PartnerMembership,
    PartnerStatus,
)
from apps.partners.permissions import ensure_applicant, ensure_can_approve, ensure_can_review, grant_partner_role
from apps.partners.risk import RiskInputs, assess
from apps.partners.services.capabilities import capabilities_at_approval, partner_capabilities_announce

EDITABLE_STATES = (ApplicationState.DRAFT, ApplicationState.INFO_REQUESTED)
IN_REVIEW_STATES = (ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW)

_E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")
_IDENTIFIER_FIELDS = ("pan", "gstin", "bank_ifsc")


# --- helpers --------------------------------------------------------------------------------------


def lock_application(application_id: UUID) -> OnboardingApplication:
    application = OnboardingApplication.objects.select_for_update().filter(pk=application_id).first()
    if application is None:
        raise ApplicationNotFound()
    return application


def _lock_own_application(applicant: User, application_id: UUID) -> OnboardingApplication:
    application = lock_application(application_id)
    if application.applicant_id != applicant.pk or application.organization_id != applicant.organization_id:
        raise ApplicationNotFound()
    return application


def _refuse_unless(application: OnboardingApplication, allowed: tuple[str, ...], action: str) -> None:
    if application.state not in allowed:
        raise InvalidTransition(
            f"Cannot {action} an application that is {application.state}; it must be {' or '.join(allowed)}."
        )


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    return {key: normalize_identifier(value) if key in _IDENTIFIER_FIELDS else value for key, value in data.items()}


def _payload(application: OnboardingApplication, **extra: Any) -> dict[str, Any]:
    return {"application_id": str(application.pk), "state": application.state, **extra}


def _emit(event_type: str, application: OnboardingApplication, actor: User | None, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=application,
        actor=actor,
        partner_id=application.partner_id,
        payload=_payload(application, **extra),
    )


# --- applicant side -----------------------------------------------------------------------------


def application_create(
    *,
    applicant: User,
    entity_class: str,
    business_type: str,
    legal_name: str,
    service_type: str = "",
    trade_name: str = "",
    country: str = "IN",
    pan: str = "",
    gstin: str = "",
    imports_or_exports: bool = False,
    owns_lorries: bool = False,
    address_line1: str = "",
    city: str = "",
    state_code: str = "",
    pincode: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    bank_account_number: str = "",
    bank_ifsc: str = "",
    business_age_months: int | None = None,
    gst_turnover: Decimal | None = None,
    filing_compliance: str = "",
    has_quality_lab: bool = False,
    has_own_transport: bool = False,
) -> OnboardingApplication:
    """A DRAFT application of an applicant (an external user without a partner). Emits
    partners.application.created."""
    ensure_applicant(applicant)
    assert applicant.organization_id is not None  # ensure_applicant refuses users without one
    fields = _normalised(
        {
            "entity_class": entity_class,
            "business_type": business_type,
            "service_type": service_type,
            "legal_name": legal_name,
            "trade_name": trade_name,
            "country": country,
            "pan": pan,
            "gstin": gstin,
            "imports_or_exports": imports_or_exports,
            "owns_lorries": owns_lorries,
            "address_line1": address_line1,
            "city": city,
            "state_code": state_code,
            "pincode": pincode,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
            "bank_account_number": bank_account_number,
            "bank_ifsc": bank_ifsc,
            "business_age_months": business_age_months,
            "gst_turnover": gst_turnover,
            "filing_compliance": filing_compliance,
            "has_quality_lab": has_quality_lab,
            "has_own_transport": has_own_transport,
        }
    )
    with transaction.atomic():
        application = OnboardingApplication(organization_id=applicant.organization_id, applicant=applicant, **fields)
        application.save()
        _emit(events.APPLICATION_CREATED, application, applicant)
    return application


def application_update(
    *,
    applicant: User,
    application_id: UUID,
    entity_class: str | Unset = UNSET,
    business_type: str | Unset = UNSET,
    service_type: str | Unset = UNSET,
    legal_name: str | Unset = UNSET,
    trade_name: str | Unset = UNSET,
    country: str | Unset = UNSET,
    pan: str | Unset = UNSET,
    gstin: str | Unset = UNSET,
    imports_or_exports: bool | Unset = UNSET,
    owns_lorries: bool | Unset = UNSET,
    address_line1: str | Unset = UNSET,
    city: str | Unset = UNSET,
    state_code: str | Unset = UNSET,
    pincode: str | Unset = UNSET,
    contact_email: str | Unset = UNSET,
    contact_phone: str | Unset = UNSET,
    bank_account_number: str | Unset = UNSET,
    bank_ifsc: str | Unset = UNSET,
    business_age_months: int | Unset | None = UNSET,
    gst_turnover: Decimal | Unset | None = UNSET,
    filing_compliance: str | Unset = UNSET,
    has_quality_lab: bool | Unset = UNSET,
    has_own_transport: bool | Unset = UNSET,
) -> OnboardingApplication:
    """Change the given fields of the applicant's data while DRAFT or INFO_REQUESTED. Emits
    partners.application.updated listing the changed fields (none: no event)."""
    changes = _normalised(
        given(
            entity_class=entity_class,
            business_type=business_type,
            service_type=service_type,
            legal_name=legal_name,
            trade_name=trade_name,
            country=country,
            pan=pan,
            gstin=gstin,
            imports_or_exports=imports_or_exports,
            owns_lorries=owns_lorries,
            address_line1=address_line1,
            city=city,
            state_code=state_code,
            pincode=pincode,
            contact_email=contact_email,
            contact_phone=contact_phone,
            bank_account_number=bank_account_number,
            bank_ifsc=bank_ifsc,
            business_age_months=business_age_months,
            gst_turnover=gst_turnover,
            filing_compliance=filing_compliance,
            has_quality_lab=has_quality_lab,
            has_own_transport=has_own_transport,
        )
    )
    with transaction.atomic():
        application = _lock_own_application(applicant, application_id)
        _refuse_unless(application, EDITABLE_STATES, "change")
        changed = {key: value for key, value in changes.items() if getattr(application, key) != value}
        for key, value in changed.items():
            setattr(application, key, value)
        if changed:
            application.save(update_fields=[*changed, "updated_at"])
            _emit(events.APPLICATION_UPDATED, application, applicant, fields=sorted(changed))
    return application


@dataclass(frozen=True)
class CheckedUpload:
    """An uploaded file that passed the checks, with what the OCR adapter read from it."""

    content_type: str
    size_bytes: int
    extracted_data: dict[str, Any]
    document_type: str
    issued_on: date | None
    expires_on: date | None

    def store(self, file: UploadedFile, **owner: Any) -> PartnerDocument:
        """Save the file and its document row for `owner` (`application=` or `partner=`), inside
        the caller's transaction; a document nothing could be read from needs a person's check."""
        document = PartnerDocument(
            document_type=self.document_type,
            content_type=self.content_type,
            size_bytes=self.size_bytes,
            issued_on=self.issued_on,
            expires_on=self.expires_on,
            extracted_data=self.extracted_data,
            needs_manual_verification=not self.extracted_data,
            **owner,
        )
        document.file.save(file.name or "document", file, save=False)
        document.save()
        return document


def check_upload(
    *, document_type: str, file: UploadedFile, issued_on: date | None, expires_on: date | None
) -> CheckedUpload:
    """The checks every document upload passes (onboarding and partner documents), then the OCR
    adapter: call it BEFORE the transaction (the adapter may do I/O). Refuses anything but
    PDF/JPEG/PNG by content (400 document_type_not_allowed), files above the size limit (400
    document_too_large) and an expiry before the issue date. Leaves the file rewound."""
    max_bytes = int(getattr(settings, "PARTNERS_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))
    if file.size is None or file.size > max_bytes:
        raise DocumentTooLarge(f"A document may be at most {max_bytes} bytes; this one is {file.size}.")
    file.seek(0)
    content = file.read()
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise DocumentTypeNotAllowed(
            "Only PDF, JPEG and PNG files are accepted, recognised by their content; this file is none of them."
        )
    if issued_on and expires_on and expires_on < issued_on:
        raise FieldInvalid("expires_on", "before_issue", "The expiry date must not be before the issue date.")
    extracted = ocr.extract(document_type, content)
    file.seek(0)
    return CheckedUpload(
        content_type=content_type,
        size_bytes=len(content),
        extracted_data=extracted,
        document_type=document_type,
        issued_on=issued_on,
        expires_on=expires_on,
    )


def document_upload(
    *,
    applicant: User,
    application_id: UUID,
    document_type: str,
    file: UploadedFile,
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> PartnerDocument:
    """Store a document of the application (DRAFT or INFO_REQUESTED), after `check_upload`
    (content type, size, dates; OCR outside the transaction). Emits partners.document.uploaded."""
    checked = check_upload(document_type=document_type, file=file, issued_on=issued_on, expires_on=expires_on)
    with transaction.atomic():
        application = _lock_own_application(applicant, application_id)
        _refuse_unless(application, EDITABLE_STATES, "add documents to")
        document = checked.store(file, application=application)
        emit(
            events.DOCUMENT_UPLOADED,
            aggregate=application,
            actor=applicant,
            payload={
                "application_id": str(application.pk),
                "document_id": str(document.pk),
                "document_type": document_type,
            },
        )
    return document


def missing_documents(application: OnboardingApplication) -> list[str]:
    required = required_documents(
        entity_class=application.entity_class,
        business_type=application.business_type,
        service_type=application.service_type,
        imports_or_exports=application.imports_or_exports,
        owns_lorries=application.owns_lorries,
        gstin=application.gstin,
    )
    present = set(
        PartnerDocument.objects.filter(application_id=application.pk)
        .exclude(status__in=[DocumentStatus.REJECTED, DocumentStatus.EXPIRED])
        .values_list("document_type", flat=True)
    )
    return [doc_type for doc_type in required if doc_type not in present]


def _field_errors(application: OnboardingApplication) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []

    def check(fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except FieldInvalid as exc:
            errors.extend(exc.errors)

    indian = application.business_type != BusinessType.FOREIGN_ENTITY
    if indian:
        check(validate_pan, application.pan)
        if application.gstin or application.entity_class == EntityClass.BUSINESS_ENTITY:
            check(validate_gstin, application.gstin, pan=application.pan if application.pan else None)
        if not _PINCODE_RE.match(application.pincode):
            errors.append({"attr": "pincode", "code": "invalid_pincode", "detail": "A pincode is 6 digits."})
    if application.bank_ifsc or indian:
        check(validate_ifsc, application.bank_ifsc, attr="bank_ifsc")
    if not _E164_RE.match(application.contact_phone):
        errors.append(
            {
                "attr": "contact_phone",
                "code": "invalid_phone",
                "detail": "A phone number is in E.164 form: + and the country code (e.g. +919812345678).",
            }
        )
    if application.entity_class == EntityClass.SERVICE_PROVIDER and not application.service_type:
        errors.append(
            {"attr": "service_type", "code": "required", "detail": "A service provider names its service type."}
        )
    return errors


def application_submit(*, applicant: User, application_id: UUID) -> OnboardingApplication:
    """DRAFT or INFO_REQUESTED -> SUBMITTED. Refuses invalid fields (400 validation_failed, also
    listing missing documents as `documents` errors) and missing documents alone (400
    documents_missing, listing them); computes the risk score and route.
    With a GST registry configured (apps.partners.gst), it is asked BEFORE the transaction, and
    the turnover and filing compliance it returns replace the applicant's own in the score.
    Emits partners.application.submitted."""
    registry = _gst_registry_answer(applicant, application_id)
    with transaction.atomic():
        application = _lock_own_application(applicant, application_id)
        _refuse_unless(application, EDITABLE_STATES, "submit")
        # Fields and documents are checked together: one answer lists everything still wrong.
        errors = _field_errors(application)
        missing = missing_documents(application)
        documents = [{"attr": "documents", "code": "missing", "detail": doc_type} for doc_type in missing]
        if errors:
            raise DomainError(
                "The application has invalid fields; see errors.",
                code="validation_failed",
                errors=[*errors, *documents],
                extra={"missing": missing} if missing else None,
            )
        if missing:
            raise DocumentsMissing(
                f"Upload these documents before submitting: {', '.join(missing)}.",
                errors=documents,
                extra={"missing": missing},
            )
        turnover, compliance, gst_source = application.gst_turnover, application.filing_compliance, "declared"
        if registry is not None and registry.gstin == application.gstin:
            turnover = registry.annual_turnover if registry.annual_turnover is not None else turnover
            compliance = registry.filing_compliance or compliance
            gst_source = "registry"
        assessment = assess(
            RiskInputs(
                business_age_months=application.business_age_months,
                business_type=application.business_type,
                gst_turnover=turnover,
                filing_compliance=compliance,
                has_quality_lab=application.has_quality_lab,
                has_own_transport=application.has_own_transport,
            )
        )
        application.state = ApplicationState.SUBMITTED
        application.risk_score = assessment.score
        application.risk_category = assessment.category
        application.route = assessment.route
        application.submitted_at = timezone.now()
        application.save(update_fields=["state", "risk_score", "risk_category", "route", "submitted_at", "updated_at"])
        _emit(
            events.APPLICATION_SUBMITTED,
            application,
            applicant,
            risk_score=assessment.score,
            risk_category=assessment.category,
            route=assessment.route,
            gst_source=gst_source,
        )
    return application


def _gst_registry_answer(applicant: User, application_id: UUID) -> gst.GstVerification | None:
    """What the GST registry says of the application's GSTIN (valid and with data), or None
    when no registry is configured or it could not answer. Network I/O: call outside a transaction."""
    if not gst.registry_configured():
        return None
    gstin = (
        OnboardingApplication.objects.filter(pk=application_id, applicant_id=applicant.pk)
        .values_list("gstin", flat=True)
        .first()
    )
    if not gstin:
        return None
    verification = gst.verify_gstin(gstin)
    return verification if verification.from_registry and verification.valid else None


def application_withdraw(*, applicant: User, application_id: UUID) -> OnboardingApplication:
    """DRAFT or INFO_REQUESTED -> WITHDRAWN. Emits partners.application.withdrawn."""
    with transaction.atomic():
        application = _lock_own_application(applicant, application_id)
        _refuse_unless(application, EDITABLE_STATES, "withdraw")
        application.state = ApplicationState.WITHDRAWN
        application.save(update_fields=["state", "updated_at"])
        _emit(events.APPLICATION_WITHDRAWN, application, applicant)
    return application


# --- back office ----------------------------------------------------------------------------------


def _begin_review(application: OnboardingApplication, actor: User) -> None:
    """SUBMITTED -> UNDER_REVIEW by the first review action; the reviewer is recorded."""
    if application.state == ApplicationState.SUBMITTED:
        application.state = ApplicationState.UNDER_REVIEW
        application.reviewed_by = actor
        application.save(update_fields=["state", "reviewed_by", "updated_at"])
        _emit(events.APPLICATION_UNDER_REVIEW, application, actor)


def application_start_review(*, actor: User, application_id: UUID) -> OnboardingApplication:
    with transaction.atomic():
        application = lock_application(application_id)
        ensure_can_review(actor, application)
        _refuse_unless(application, (ApplicationState.SUBMITTED,), "start reviewing")
        _begin_review(application, actor)
    return application


def _lock_document(document_id: UUID) -> tuple[OnboardingApplication, PartnerDocument]:
    application_id = (
        PartnerDocument.objects.filter(pk=document_id, application__isnull=False)
        .values_list("application_id", flat=True)
        .first()
    )
    if application_id is None:
        raise DocumentNotFound()
    application = lock_application(application_id)
    document = PartnerDocument.objects.select_for_update().get(pk=document_id)
    return application, document


def document_verify(*, actor: User, document_id: UUID) -> PartnerDocument:
    """A KYC officer verifies a PENDING document of a submitted application (which goes under
    review). Emits partners.document.verified."""
    with transaction.atomic():
        application, document = _lock_document(document_id)
        ensure_can_review(actor, application)
        _refuse_unless(application, IN_REVIEW_STATES, "verify documents of")
        if document.status != DocumentStatus.PENDING:
            raise InvalidTransition(f"Only a PENDING document can be verified; this one is {document.status}.")
        _begin_review(application, actor)
        document.status = DocumentStatus.VERIFIED
        document.verified_by = actor
        document.verified_at = timezone.now()
        document.save(update_fields=["status", "verified_by", "verified_at", "updated_at"])
        _emit(events.DOCUMENT_VERIFIED, application, actor, document_id=str(document.pk))
    return document


def document_reject(*, actor: User, document_id: UUID, reason: str) -> PartnerDocument:
    """A KYC officer rejects a PENDING document. Emits partners.document.rejected."""
    if not reason.strip():
        raise FieldInvalid("reason", "required", "Say why the document is rejected.")
    with transaction.atomic():
        application, document = _lock_document(document_id)
        ensure_can_review(actor, application)
        _refuse_unless(application, IN_REVIEW_STATES, "reject documents of")
        if document.status != DocumentStatus.PENDING:
            raise InvalidTransition(f"Only a PENDING document can be rejected; this one is {document.status}.")
        _begin_review(application, actor)
        document.status = DocumentStatus.REJECTED
        document.rejection_reason = reason
        document.save(update_fields=["status", "rejection_reason", "updated_at"])
        _emit(events.DOCUMENT_REJECTED, application, actor, document_id=str(document.pk), reason=reason)
    return document


def application_request_info(*, actor: User, application_id: UUID, message: str) -> OnboardingApplication:
    """SUBMITTED or UNDER_REVIEW -> INFO_REQUESTED, with a message to the applicant."""
    if not message.strip():
        raise FieldInvalid("message", "required", "Tell the applicant what is needed.")
    with transaction.atomic():
        application = lock_application(application_id)
        ensure_can_review(actor, application)
        _refuse_unless(application, IN_REVIEW_STATES, "request information on")
        application.state = ApplicationState.INFO_REQUESTED
        application.info_request_message = message
        if application.reviewed_by_id is None:
            application.reviewed_by = actor
        application.save(update_fields=["state", "info_request_message", "reviewed_by", "updated_at"])
        _emit(events.APPLICATION_INFO_REQUESTED, application, actor, message=message)
    return application


def application_reject(*, actor: User, application_id: UUID, reason: str) -> OnboardingApplication:
    """SUBMITTED or UNDER_REVIEW -> REJECTED, with the reason."""
    if not reason.strip():
        raise FieldInvalid("reason", "required", "Say why the application is rejected.")
    with transaction.atomic():
        application = lock_application(application_id)
        ensure_can_review(actor, application)
        _refuse_unless(application, IN_REVIEW_STATES, "reject")
        application.state = ApplicationState.REJECTED
        application.decision_note = reason
        application.decided_at = timezone.now()
        application.save(update_fields=["state", "decision_note", "decided_at", "updated_at"])
        _emit(events.APPLICATION_REJECTED, application, actor, reason=reason)
    return application


def next_partner_code(organization_id: UUID) -> str:
    """`BP-000001`, gapless per organization: the counter row moves in the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("next_partner_code() must run inside the transaction that saves the partner")
    PartnerCodeCounter.objects.get_or_create(organization_id=organization_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partners_partnercodecounter SET last_number = last_number + 1 "
            "WHERE organization_id = %s RETURNING last_number",
            [organization_id],
        )
        (number,) = cursor.fetchone()
    return f"BP-{number:06d}"


@dataclass(frozen=True)
class Approval:
    application: OnboardingApplication
    partner: BusinessPartner
    membership: PartnerMembership
    branch: Branch


def application_approve(*, actor: User, application_id: UUID, credit_limit: Decimal, note: str = "") -> Approval:
    """UNDER_REVIEW -> APPROVED. Needs the route's capability and refuses the keyer, reviewer or a
    document verifier (409 maker_checker_violation). In one transaction creates the partner (next
    gapless code), the applicant's OWNER membership, the head-office branch, the owner's object
    permissions on the partner, moves the documents to the partner, derives its capabilities from
    them and sets KYC verified now, expiring PARTNERS_KYC_VALIDITY_DAYS (a year) ahead. A
    duplicate active GSTIN refuses (409 duplicate_active_gstin) and leaves nothing.
    Emits partners.partner.created, partners.partner.capabilities_changed (unless it has none)
    and partners.application.approved."""
    if credit_limit < 0:
        raise FieldInvalid("credit_limit", "negative", "The credit limit must not be negative.")
    try:
        with transaction.atomic():
            application = lock_application(application_id)
            ensure_can_approve(actor, application)
            _refuse_unless(application, (ApplicationState.UNDER_REVIEW,), "approve")
            applicant = User.objects.select_for_update().get(pk=application.applicant_id)
            today = timezone.localdate()
            capabilities = capabilities_at_approval(application, today=today)
            partner = BusinessPartner.objects.create(
                organization_id=application.organization_id,
                code=next_partner_code(application.organization_id),
                entity_class=application.entity_class,
                business_type=application.business_type,
                service_type=application.service_type,
                legal_name=application.legal_name,
                trade_name=application.trade_name,
                country=application.country,
                pan=application.pan,
                gstin=application.gstin,
                imports_or_exports=application.imports_or_exports,
                owns_lorries=application.owns_lorries,
                address_line1=application.address_line1,
                city=application.city,
                state_code=application.state_code or (application.gstin[:2] if application.gstin else ""),
                pincode=application.pincode,
                location_id=application.location_id,
                contact_name=applicant.full_name,
                contact_email=application.contact_email,
                contact_phone=application.contact_phone,
                bank_account_holder=application.legal_name if application.bank_account_number else "",
                bank_account_number=application.bank_account_number,
                bank_ifsc=application.bank_ifsc,
                status=PartnerStatus.ACTIVE,
                kyc_status=KycStatus.VERIFIED,
                kyc_verified_at=timezone.now(),
                kyc_expires_on=today + timedelta(days=settings.PARTNERS_KYC_VALIDITY_DAYS),
                risk_score=application.risk_score or 0,
                risk_category=application.risk_category,
                credit_limit=credit_limit,
                derived_capabilities=capabilities,
                trading_capabilities=capabilities,
            )
            membership = PartnerMembership.objects.create(user=applicant, partner=partner, role=MembershipRole.OWNER)
            branch = _head_office(application, partner)
            grant_partner_role(applicant, partner, MembershipRole.OWNER)
            PartnerDocument.objects.filter(application_id=application.pk).update(partner=partner)
            application.state = ApplicationState.APPROVED
            application.partner = partner
            application.approved_by = actor
            application.decided_at = timezone.now()
            application.decision_note = note
            application.save(
                update_fields=["state", "partner", "approved_by", "decided_at", "decision_note", "updated_at"]
            )
            emit(
                events.PARTNER_CREATED,
                aggregate=partner,
                actor=actor,
                partner_id=partner.pk,
                payload={"code": partner.code, "application_id": str(application.pk)},
            )
            partner_capabilities_announce(partner, actor=actor, reason="approval")
            _emit(
                events.APPLICATION_APPROVED,
                application,
                actor,
                partner_code=partner.code,
                credit_limit=str(credit_limit),
                note=note,
            )
    except IntegrityError as exc:
        if "partner_gstin_unique_among_active" in str(exc):
            raise DuplicateActiveGstin() from exc
        raise
    return Approval(application=application, partner=partner, membership=membership, branch=branch)


def _head_office(application: OnboardingApplication, partner: BusinessPartner) -> Branch:
    if application.location_id is not None:
        from apps.locations.locks import lock_location_for_reference

        lock_location_for_reference(application.location_id)
    return Branch.objects.create(
        partner=partner,
        code="HO",
        name=f"{partner.legal_name} head office",
        branch_type=BranchType.HEAD_OFFICE,
        location_id=application.location_id,
        address_line1=application.address_line1,
        city=application.city,
        state_code=application.state_code or (application.gstin[:2] if application.gstin else ""),
        pincode=application.pincode,
        gstin=application.gstin or None,
        is_default_ship_to=True,
        is_default_ship_from=True,
    )

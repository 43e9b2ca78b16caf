"""Documents of an approved partner (renewals, new licences): upload by the partner's owner or
staff, verification or rejection by a KYC officer; both decisions recompute the capabilities.

Locking order: the partner row, then the document.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import PermissionDenied
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.errors import DocumentNotFound, InvalidTransition
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner, DocumentStatus, PartnerDocument
from apps.partners.permissions import CHANGE_PARTNER, ensure_partner_permission, is_staff_of
from apps.partners.selectors import partner_get
from apps.partners.services.capabilities import partner_recompute_capabilities
from apps.partners.services.onboarding import check_upload

VERIFY_DOCUMENTS = "partners.change_partnerdocument"


def _emit(event_type: str, partner: BusinessPartner, document: PartnerDocument, actor: object, **extra: object) -> None:
    emit(
        event_type,
        aggregate=partner,
        actor=actor,
        partner_id=partner.pk,
        payload={
            "partner_id": str(partner.pk),
            "document_id": str(document.pk),
            "document_type": document.document_type,
            **extra,
        },
    )


def partner_document_upload(
    *,
    actor: User,
    partner_id: UUID,
    document_type: str,
    file: UploadedFile,
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> PartnerDocument:
    """Store a PENDING document of a partner: its owner (change right on the partner, which must
    be ACTIVE) or staff of its organization with partners.change_businesspartner. Outside scope
    404, without the right 403, checked before the file is read. The same checks as onboarding
    uploads (content type, size, dates; OCR outside the transaction). Emits
    partners.document.uploaded."""
    partner = partner_get(actor, partner_id)
    ensure_partner_permission(actor, partner, partner_perm=CHANGE_PARTNER, staff_perm=CHANGE_PARTNER)
    checked = check_upload(document_type=document_type, file=file, issued_on=issued_on, expires_on=expires_on)
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_partner_permission(actor, partner, partner_perm=CHANGE_PARTNER, staff_perm=CHANGE_PARTNER)
        document = checked.store(file, partner=partner)
        _emit(events.DOCUMENT_UPLOADED, partner, document, actor)
    return document


def _lock_partner_document(actor: User, document_id: UUID) -> tuple[BusinessPartner, PartnerDocument]:
    """The partner (locked first) and the document (locked), for a KYC officer of the partner's
    organization: anyone else 404, staff without partners.change_partnerdocument 403."""
    partner_id = (
        PartnerDocument.objects.filter(pk=document_id, partner__isnull=False)
        .values_list("partner_id", flat=True)
        .first()
    )
    if partner_id is None:
        raise DocumentNotFound()
    partner = lock_partner(partner_id)
    if not is_staff_of(actor, partner.organization_id):
        raise DocumentNotFound()
    if not actor.has_perm(VERIFY_DOCUMENTS):
        raise PermissionDenied(f"Verifying partner documents needs the {VERIFY_DOCUMENTS} capability.")
    document = PartnerDocument.objects.select_for_update().get(pk=document_id)
    return partner, document


def _refuse_unless_pending(document: PartnerDocument, action: str) -> None:
    if document.status != DocumentStatus.PENDING:
        raise InvalidTransition(f"Only a PENDING document can be {action}; this one is {document.status}.")


def partner_document_verify(*, actor: User, document_id: UUID) -> PartnerDocument:
    """PENDING -> VERIFIED by a KYC officer; a document already past its expiry date is refused
    (409 invalid_transition). Recomputes the partner's capabilities. Emits
    partners.document.verified (and partners.partner.capabilities_changed when they change)."""
    with transaction.atomic():
        partner, document = _lock_partner_document(actor, document_id)
        _refuse_unless_pending(document, "verified")
        today = timezone.localdate()
        if document.expires_on is not None and document.expires_on < today:
            raise InvalidTransition(
                f"The document expired on {document.expires_on}; ask for a current one instead of verifying it."
            )
        document.status = DocumentStatus.VERIFIED
        document.verified_by = actor
        document.verified_at = timezone.now()
        document.save(update_fields=["status", "verified_by", "verified_at", "updated_at"])
        _emit(events.DOCUMENT_VERIFIED, partner, document, actor)
        partner_recompute_capabilities(partner, actor=actor, reason=f"{document.document_type} verified", today=today)
    return document


def partner_document_reject(*, actor: User, document_id: UUID, reason: str) -> PartnerDocument:
    """PENDING -> REJECTED by a KYC officer, with the reason (shown to the partner). Recomputes
    the partner's capabilities. Emits partners.document.rejected."""
    reason = reason.strip()
    if not reason:
        raise FieldInvalid("reason", "required", "Say why the document is rejected.")
    with transaction.atomic():
        partner, document = _lock_partner_document(actor, document_id)
        _refuse_unless_pending(document, "rejected")
        document.status = DocumentStatus.REJECTED
        document.rejection_reason = reason
        document.save(update_fields=["status", "rejection_reason", "updated_at"])
        _emit(events.DOCUMENT_REJECTED, partner, document, actor, reason=reason)
        partner_recompute_capabilities(partner, actor=actor, reason=f"{document.document_type} rejected")
    return document

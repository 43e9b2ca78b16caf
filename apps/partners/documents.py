"""What an uploaded file is (by its content, never its name) and which documents an applicant needs."""

from __future__ import annotations

from apps.partners.models import BusinessType, DocumentType, EntityClass, ServiceType

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def sniff_content_type(head: bytes) -> str | None:
    """`application/pdf`, `image/jpeg` or `image/png` from the first bytes, else None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def required_documents(
    *,
    entity_class: str,
    business_type: str,
    service_type: str,
    imports_or_exports: bool,
    owns_lorries: bool,
    gstin: str,
) -> list[str]:
    """The document types an application must carry before it is submitted (SPEC section 6)."""
    if entity_class == EntityClass.SERVICE_PROVIDER:
        # Service providers never trade: PAN (and the GST certificate when registered); lorry-owning
        # transporters also their vehicle papers.
        required = [DocumentType.PAN_CARD.value]
        if gstin:
            required.append(DocumentType.GST_CERTIFICATE.value)
        if service_type == ServiceType.TRANSPORTER and owns_lorries:
            required += [DocumentType.RC.value, DocumentType.INSURANCE.value, DocumentType.FITNESS.value]
            required.append(DocumentType.PERMIT.value)
        return required
    if business_type == BusinessType.FOREIGN_ENTITY:
        return [DocumentType.FOREIGN_TAX_ID.value, DocumentType.TRADE_LICENCE.value]
    required = [DocumentType.GST_CERTIFICATE.value, DocumentType.PAN_CARD.value, DocumentType.CANCELLED_CHEQUE.value]
    if imports_or_exports:
        required.append(DocumentType.IEC.value)
    return required

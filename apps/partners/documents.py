"""KYC documents: what an uploaded file is (by its content, never its name), which documents an
applicant needs, and how a stored one is served: inline, with the content type recognised at
upload, never cached, never from a public media URL (the admin and the API both call
`serve_document` after their own scoping checks)."""

from __future__ import annotations

from django.http import FileResponse

from apps.partners.models import BusinessType, DocumentType, EntityClass, PartnerDocument, ServiceType

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


def serve_document(document: PartnerDocument) -> FileResponse:
    """The file inline, with the sniffed content type; browsers must not guess another."""
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=False,
        filename=f"{document.document_type.lower()}-{document.pk}{_extension(document.content_type)}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _extension(content_type: str) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(content_type, "")

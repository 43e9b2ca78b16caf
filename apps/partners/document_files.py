"""Serving a stored KYC document: inline, with the content type recognised at upload, never
cached, and never from a public media URL (the admin and the API both call this after their own
scoping checks)."""

from __future__ import annotations

from django.http import FileResponse

from apps.partners.models import PartnerDocument


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

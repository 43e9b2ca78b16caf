"""Viewing a KYC document in the back office.

Documents are never served from a public media URL: the admin links to this view, which finds the
document only within the staff member's organization (another organization's document answers
404, as if it did not exist), needs `partners.view_partnerdocument`, and streams the file inline
with the content type recognised at upload.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_sameorigin

from apps.accounts.models import User
from apps.partners.documents import serve_document
from apps.partners.models import PartnerDocument
from apps.partners.selectors import document_for_staff

VIEW_DOCUMENT = "partners.view_partnerdocument"


@xframe_options_sameorigin  # previewed in a frame beside the review buttons
@staff_member_required
def document_file_view(request: HttpRequest, document_id: UUID) -> FileResponse:
    user = request.user
    assert isinstance(user, User)
    if not user.has_perm(VIEW_DOCUMENT):
        raise PermissionDenied
    document = document_for_staff(user, document_id)
    if document is None:
        raise Http404("No such document.")
    return serve_document(document)


def document_link(document: PartnerDocument) -> str:
    """For the inlines: a link that opens the document in a new tab."""
    if not document.pk or not document.file:
        return "-"
    url = reverse("partners-document-file", args=[document.pk])
    return format_html('<a href="{}" target="_blank" rel="noopener">View {}</a>', url, document.content_type)


class DocumentLinkMixin:
    """Adds the read-only `view_file` column to a document inline."""

    @staticmethod
    def view_file(obj: Any) -> str:
        return document_link(obj)


urlpatterns = [
    path("partners/document/<uuid:document_id>/file/", document_file_view, name="partners-document-file"),
]

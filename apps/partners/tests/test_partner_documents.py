"""A partner's documents after approval: list and upload in the API, verify/reject by KYC officers."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner, DocumentStatus, PartnerDocument, PartnerStatus
from apps.partners.services.documents import (
    partner_document_reject,
    partner_document_upload,
    partner_document_verify,
)
from apps.partners.tests.factories import NOT_A_PDF, TINY_PDF, TINY_PNG, pdf_upload

pytestmark = pytest.mark.django_db

UPLOADED = "partners.document.uploaded"


def _url(partner: BusinessPartner) -> str:
    return f"/api/v1/partners/{partner.pk}/documents/"


def _upload(client: Any, partner: BusinessPartner, content: bytes = TINY_PDF, **fields: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"document_type": "IEC", "file": SimpleUploadedFile("iec.pdf", content), **fields}
    return client.post(_url(partner), data, format="multipart")


def _stored_files(partner: BusinessPartner) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "partners" / "documents" / str(partner.pk)
    return sorted(folder.iterdir()) if folder.exists() else []


def _snapshot(partner: BusinessPartner) -> tuple[int, int, list[Path]]:
    return (
        PartnerDocument.objects.filter(partner=partner).count(),
        OutboxEvent.objects.filter(type=UPLOADED, partner_id=partner.pk).count(),
        _stored_files(partner),
    )


# --- list ----------------------------------------------------------------------------------------


def test_members_and_staff_list_the_partners_documents(
    authenticate: Any, partner: BusinessPartner, owner: Any, viewer: Any, kyc_officer: Any
) -> None:
    for user in (owner, viewer, kyc_officer):
        response = authenticate(user).get(_url(partner))

        assert response.status_code == 200
        rows = response.json()["results"]
        assert sorted(row["document_type"] for row in rows) == ["CANCELLED_CHEQUE", "GST_CERTIFICATE", "PAN_CARD"]
        assert {row["status"] for row in rows} == {"VERIFIED"}
        assert {row["application_id"] for row in rows} == {str(partner.application.pk)}


def test_the_list_is_404_outside_scope(
    api_client: Any, authenticate: Any, partner: BusinessPartner, other_partner: Any, other_org_staff: Any
) -> None:
    assert api_client.get(_url(partner)).status_code == 401
    for user in (other_partner.owner, other_org_staff):
        response = authenticate(user).get(_url(partner))
        assert (response.status_code, response.json()["code"]) == (404, "partner_not_found")


def test_the_list_filters_are_validated(authenticate: Any, partner: BusinessPartner, owner: Any) -> None:
    client = authenticate(owner)
    partner_document_upload(actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload())

    pending = client.get(_url(partner) + "?status=PENDING").json()["results"]
    assert [(row["document_type"], row["application_id"]) for row in pending] == [("IEC", None)]
    assert len(client.get(_url(partner) + "?document_type=PAN_CARD").json()["results"]) == 1
    bad = client.get(_url(partner) + "?status=LOST")
    assert (bad.status_code, bad.json()["errors"][0]["attr"]) == (400, "status")


def test_the_list_costs_the_same_queries_for_three_documents_or_nine(
    authenticate: Any, partner: BusinessPartner, owner: Any
) -> None:
    client = authenticate(owner)
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(_url(partner)).json()["results"]) == 3
    for _ in range(6):
        partner_document_upload(actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload())
    with CaptureQueriesContext(connection) as nine:
        assert len(client.get(_url(partner)).json()["results"]) == 9

    assert len(nine) == len(three)


# --- upload --------------------------------------------------------------------------------------


def test_the_owner_uploads_a_pending_document(authenticate: Any, partner: BusinessPartner, owner: Any) -> None:
    response = _upload(authenticate(owner), partner, TINY_PNG, issued_on="2026-04-01", expires_on="2031-03-31")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["document_type"], body["content_type"], body["status"], body["application_id"]) == (
        "IEC",
        "image/png",
        "PENDING",
        None,
    )
    assert (body["issued_on"], body["expires_on"], body["needs_manual_verification"]) == (
        "2026-04-01",
        "2031-03-31",
        True,
    )
    document = PartnerDocument.objects.get(pk=body["id"])
    assert (document.partner_id, document.application_id, document.size_bytes) == (partner.pk, None, len(TINY_PNG))
    document.file.open("rb")
    assert document.file.read() == TINY_PNG
    event = OutboxEvent.objects.get(type=UPLOADED, partner_id=partner.pk)
    assert (event.actor_id, event.organization_id) == (owner.pk, partner.organization_id)
    assert event.payload == {"partner_id": str(partner.pk), "document_id": body["id"], "document_type": "IEC"}


def test_staff_with_the_change_right_upload_even_for_a_suspended_partner(
    authenticate: Any, partner: BusinessPartner, desk_manager: Any
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(status=PartnerStatus.SUSPENDED)

    response = _upload(authenticate(desk_manager), partner)

    assert response.status_code == 201
    assert PartnerDocument.objects.get(pk=response.json()["id"]).partner_id == partner.pk


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("viewer", 403, "permission_denied"),
        ("trader", 403, "permission_denied"),
        ("kyc_officer", 403, "permission_denied"),
        ("other_partner_owner", 404, "partner_not_found"),
        ("other_org_staff", 404, "partner_not_found"),
    ],
)
def test_upload_is_refused_without_the_right_and_writes_nothing(
    request: Any, authenticate: Any, partner: BusinessPartner, other_partner: Any, who: str, status: int, code: str
) -> None:
    user = other_partner.owner if who == "other_partner_owner" else request.getfixturevalue(who)
    before = _snapshot(partner)

    response = _upload(authenticate(user), partner)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert _snapshot(partner) == before


def test_a_suspended_partners_owner_may_not_upload(authenticate: Any, partner: BusinessPartner, owner: Any) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(status=PartnerStatus.SUSPENDED)
    before = _snapshot(partner)

    response = _upload(authenticate(owner), partner)

    assert (response.status_code, response.json()["code"]) == (403, "partner_suspended")
    assert _snapshot(partner) == before


def test_a_text_file_named_pdf_is_refused_and_nothing_written(
    authenticate: Any, partner: BusinessPartner, owner: Any
) -> None:
    before = _snapshot(partner)

    response = _upload(authenticate(owner), partner, NOT_A_PDF)

    assert (response.status_code, response.json()["code"]) == (400, "document_type_not_allowed")
    assert _snapshot(partner) == before


def test_a_file_above_the_limit_is_refused(
    authenticate: Any, partner: BusinessPartner, owner: Any, settings: Any
) -> None:
    settings.PARTNERS_DOCUMENT_MAX_BYTES = 100
    before = _snapshot(partner)

    response = _upload(authenticate(owner), partner, TINY_PDF + b" " * 100)

    assert (response.status_code, response.json()["code"]) == (400, "document_too_large")
    assert _snapshot(partner) == before


def test_an_expiry_before_the_issue_date_is_refused(authenticate: Any, partner: BusinessPartner, owner: Any) -> None:
    before = _snapshot(partner)

    response = _upload(authenticate(owner), partner, issued_on="2026-04-01", expires_on="2026-03-31")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "expires_on"
    assert _snapshot(partner) == before


# --- verify / reject ------------------------------------------------------------------------------


@pytest.fixture
def pending_iec(partner: BusinessPartner, owner: Any) -> PartnerDocument:
    return partner_document_upload(actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload())


def _events_of(document: PartnerDocument) -> list[str]:
    return list(
        OutboxEvent.objects.filter(payload__document_id=str(document.pk))
        .order_by("position")
        .values_list("type", flat=True)
    )


def test_a_kyc_officer_verifies_a_pending_document(pending_iec: PartnerDocument, kyc_officer: Any) -> None:
    partner_document_verify(actor=kyc_officer, document_id=pending_iec.pk)

    pending_iec.refresh_from_db()
    assert (pending_iec.status, pending_iec.verified_by_id) == (DocumentStatus.VERIFIED, kyc_officer.pk)
    assert pending_iec.verified_at is not None
    assert _events_of(pending_iec) == ["partners.document.uploaded", "partners.document.verified"]
    event = OutboxEvent.objects.get(type="partners.document.verified", payload__document_id=str(pending_iec.pk))
    assert (event.partner_id, event.actor_id) == (pending_iec.partner_id, kyc_officer.pk)
    assert event.payload == {
        "partner_id": str(pending_iec.partner_id),
        "document_id": str(pending_iec.pk),
        "document_type": "IEC",
    }


def test_a_kyc_officer_rejects_with_a_reason(pending_iec: PartnerDocument, kyc_officer: Any) -> None:
    partner_document_reject(actor=kyc_officer, document_id=pending_iec.pk, reason="Illegible scan")

    pending_iec.refresh_from_db()
    assert (pending_iec.status, pending_iec.rejection_reason) == (DocumentStatus.REJECTED, "Illegible scan")
    event = OutboxEvent.objects.get(type="partners.document.rejected", payload__document_id=str(pending_iec.pk))
    assert event.payload["reason"] == "Illegible scan"
    assert event.partner_id == pending_iec.partner_id


def _assert_still_pending(document: PartnerDocument) -> None:
    document.refresh_from_db()
    assert (document.status, document.verified_by_id, document.rejection_reason) == (DocumentStatus.PENDING, None, "")
    assert _events_of(document) == ["partners.document.uploaded"]


def test_a_rejection_needs_a_reason(pending_iec: PartnerDocument, kyc_officer: Any) -> None:
    with pytest.raises(DomainError) as refused:
        partner_document_reject(actor=kyc_officer, document_id=pending_iec.pk, reason="  ")

    assert (refused.value.status, refused.value.errors[0]["attr"]) == (400, "reason")
    _assert_still_pending(pending_iec)


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("desk_manager", 403, "permission_denied"),
        ("risk_officer", 403, "permission_denied"),
        ("owner", 404, "document_not_found"),
        ("other_org_staff", 404, "document_not_found"),
    ],
)
def test_only_kyc_officers_of_the_organization_verify_or_reject(
    request: Any, pending_iec: PartnerDocument, who: str, status: int, code: str
) -> None:
    actor = request.getfixturevalue(who)
    for attempt in (
        lambda: partner_document_verify(actor=actor, document_id=pending_iec.pk),
        lambda: partner_document_reject(actor=actor, document_id=pending_iec.pk, reason="No"),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert (refused.value.status, refused.value.code) == (status, code)
    _assert_still_pending(pending_iec)


def test_only_a_pending_document_is_decided(partner: BusinessPartner, kyc_officer: Any) -> None:
    verified = PartnerDocument.objects.filter(partner=partner).first()
    assert verified is not None

    with pytest.raises(DomainError) as refused:
        partner_document_reject(actor=kyc_officer, document_id=verified.pk, reason="Changed my mind")

    assert (refused.value.status, refused.value.code) == (409, "invalid_transition")
    verified.refresh_from_db()
    assert verified.status == DocumentStatus.VERIFIED


def test_a_document_past_its_expiry_date_is_not_verified(
    partner: BusinessPartner, owner: Any, kyc_officer: Any
) -> None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    document = partner_document_upload(
        actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload(), expires_on=yesterday
    )

    with pytest.raises(DomainError) as refused:
        partner_document_verify(actor=kyc_officer, document_id=document.pk)

    assert (refused.value.status, refused.value.code) == (409, "invalid_transition")
    _assert_still_pending(document)


def test_an_unknown_document_is_404(kyc_officer: Any) -> None:
    import uuid

    with pytest.raises(DomainError) as refused:
        partner_document_verify(actor=kyc_officer, document_id=uuid.uuid4())

    assert (refused.value.status, refused.value.code) == (404, "document_not_found")


def test_the_admin_verifies_a_pending_partner_document(pending_iec: PartnerDocument, kyc_officer: Any) -> None:
    client = Client()
    client.force_login(kyc_officer, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/admin/partners/businesspartner/{pending_iec.partner_id}/actions/review_partner_document/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"document": pending_iec.pk, "decision": "verify"})

    assert response.status_code == 302
    pending_iec.refresh_from_db()
    assert pending_iec.status == DocumentStatus.VERIFIED
    assert BusinessPartner.objects.get(pk=pending_iec.partner_id).trading_capabilities["import"] is True

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.tests.factories import ExternalUserFactory
from apps.events.models import OutboxEvent
from apps.partners.models import ApplicationState, OnboardingApplication, PartnerDocument
from apps.partners.tests import factories
from apps.partners.tests.factories import GSTIN, NOT_A_PDF, TINY_JPEG, TINY_PDF, TINY_PNG

pytestmark = pytest.mark.django_db

APPS = "/api/v1/partners/applications/"


def _json_data(**overrides: Any) -> dict[str, Any]:
    data = factories.application_data(**overrides)
    data["gst_turnover"] = str(data["gst_turnover"])
    return data


def _events(app_id: Any) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=str(app_id)).order_by("position").values_list("type", flat=True)
    )


def _upload(client: Any, app_id: Any, name: str, content: bytes, doc_type: str = "GST_CERTIFICATE") -> Any:
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(f"{APPS}{app_id}/documents/", {"document_type": doc_type, "file": file}, format="multipart")


def test_applicant_creates_a_draft_and_reads_it_back(authenticate: Any, applicant: Any) -> None:
    client = authenticate(applicant)

    response = client.post(APPS, _json_data(gstin=GSTIN.lower()), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["gstin"], body["risk_score"], body["route"]) == ("DRAFT", GSTIN, None, "")
    assert client.get(f"{APPS}{body['id']}/").json()["legal_name"] == "Shree Ginning Private Limited"
    assert [row["id"] for row in client.get(APPS).json()["results"]] == [body["id"]]
    assert _events(body["id"]) == ["partners.application.created"]


def test_staff_and_partner_users_cannot_apply(authenticate: Any, kyc_officer: Any) -> None:
    response = authenticate(kyc_officer).post(APPS, _json_data(), format="json")

    assert (response.status_code, response.json()["code"]) == (403, "not_an_applicant")
    assert OnboardingApplication.objects.count() == 0


def test_other_applicants_and_organizations_get_404(
    authenticate: Any, applicant: Any, other_applicant: Any, other_organization: Any
) -> None:
    app = factories.application(applicant)
    stranger = ExternalUserFactory(organization=other_organization)

    for user in (other_applicant, stranger):
        client = authenticate(user)
        assert client.get(f"{APPS}{app.id}/").status_code == 404
        assert client.patch(f"{APPS}{app.id}/", {"legal_name": "Hijacked"}, format="json").status_code == 404
        assert _upload(client, app.id, "a.pdf", TINY_PDF).status_code == 404
        assert client.post(f"{APPS}{app.id}/submit").status_code == 404
        assert client.post(f"{APPS}{app.id}/withdraw").status_code == 404
        assert client.get(APPS).json()["results"] == []

    app.refresh_from_db()
    assert (app.legal_name, app.state, app.documents.count()) == ("Shree Ginning Private Limited", "DRAFT", 0)


def test_anonymous_gets_401(api_client: Any, applicant: Any) -> None:
    app = factories.application(applicant)

    assert api_client.get(APPS).status_code == 401
    assert api_client.post(f"{APPS}{app.id}/submit").status_code == 401


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("gst.pdf", TINY_PDF, "application/pdf"),
        ("gst.png", TINY_PNG, "image/png"),
        ("gst.jpg", TINY_JPEG, "image/jpeg"),
    ],
)
def test_pdf_png_and_jpeg_are_accepted_by_content(
    authenticate: Any, applicant: Any, name: str, content: bytes, content_type: str
) -> None:
    app = factories.application(applicant)

    response = _upload(authenticate(applicant), app.id, name, content)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["content_type"], body["size_bytes"], body["status"]) == (content_type, len(content), "PENDING")
    assert body["needs_manual_verification"] is True
    document = PartnerDocument.objects.get(pk=body["id"])
    assert document.extracted_data == {}
    document.file.open("rb")
    assert document.file.read() == content
    assert _events(app.id) == ["partners.document.uploaded"]


def test_a_text_file_named_pdf_is_refused(authenticate: Any, applicant: Any) -> None:
    app = factories.application(applicant)

    response = _upload(authenticate(applicant), app.id, "gst.pdf", NOT_A_PDF)

    assert (response.status_code, response.json()["code"]) == (400, "document_type_not_allowed")
    assert PartnerDocument.objects.count() == 0
    assert _events(app.id) == []


def test_a_file_above_the_limit_is_refused(authenticate: Any, applicant: Any, settings: Any) -> None:
    settings.PARTNERS_DOCUMENT_MAX_BYTES = 100
    app = factories.application(applicant)

    response = _upload(authenticate(applicant), app.id, "gst.pdf", TINY_PDF + b" " * 100)

    assert (response.status_code, response.json()["code"]) == (400, "document_too_large")
    assert PartnerDocument.objects.count() == 0


def test_submit_is_refused_until_the_documents_are_present(authenticate: Any, applicant: Any) -> None:
    client = authenticate(applicant)
    app = factories.application(applicant)
    assert _upload(client, app.id, "gst.pdf", TINY_PDF, "GST_CERTIFICATE").status_code == 201

    response = client.post(f"{APPS}{app.id}/submit")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "documents_missing"
    assert body["detail"] == "Upload these documents before submitting: PAN_CARD, CANCELLED_CHEQUE."
    app.refresh_from_db()
    assert (app.state, app.risk_score, app.route) == ("DRAFT", None, "")

    assert _upload(client, app.id, "pan.png", TINY_PNG, "PAN_CARD").status_code == 201
    assert _upload(client, app.id, "cheque.jpg", TINY_JPEG, "CANCELLED_CHEQUE").status_code == 201
    response = client.post(f"{APPS}{app.id}/submit")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["risk_score"], body["risk_category"], body["route"]) == (
        "SUBMITTED",
        95,
        "LOW",
        "DESK_MANAGER",
    )
    assert _events(app.id)[-1] == "partners.application.submitted"


def test_submit_refuses_invalid_fields_listing_them(authenticate: Any, applicant: Any) -> None:
    bad_gstin = GSTIN[:14] + ("A" if GSTIN[14] != "A" else "B")
    app = factories.application(
        applicant, gstin=bad_gstin, bank_ifsc="SBIN1001234", pincode="04400", contact_phone="9812345678"
    )
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(app, doc_type)

    response = authenticate(applicant).post(f"{APPS}{app.id}/submit")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        ("gstin", "invalid_gstin_check_digit"),
        ("pincode", "invalid_pincode"),
        ("bank_ifsc", "invalid_ifsc"),
        ("contact_phone", "invalid_phone"),
    ]
    app.refresh_from_db()
    assert app.state == "DRAFT"


def test_gstin_whose_pan_part_differs_is_refused(authenticate: Any, applicant: Any) -> None:
    app = factories.application(applicant, pan="AAPFU0939G")
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(app, doc_type)

    response = authenticate(applicant).post(f"{APPS}{app.id}/submit")

    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("gstin", "gstin_pan_mismatch")]


def test_patch_while_draft_then_refused_once_submitted(authenticate: Any, applicant: Any) -> None:
    client = authenticate(applicant)
    app = factories.application(applicant)

    response = client.patch(f"{APPS}{app.id}/", {"trade_name": "Shree Cotton"}, format="json")
    assert (response.status_code, response.json()["trade_name"]) == (200, "Shree Cotton")

    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(app, doc_type)
    assert client.post(f"{APPS}{app.id}/submit").status_code == 200

    response = client.patch(f"{APPS}{app.id}/", {"trade_name": "Late change"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert _upload(client, app.id, "more.pdf", TINY_PDF).json()["code"] == "invalid_transition"
    assert client.post(f"{APPS}{app.id}/withdraw").json()["code"] == "invalid_transition"
    assert client.post(f"{APPS}{app.id}/submit").json()["code"] == "invalid_transition"
    app.refresh_from_db()
    assert (app.trade_name, app.state, app.documents.count()) == ("Shree Cotton", "SUBMITTED", 3)
    assert _events(app.id) == [
        "partners.application.updated",
        "partners.application.submitted",
    ]


def test_withdraw_a_draft(authenticate: Any, applicant: Any) -> None:
    client = authenticate(applicant)
    app = factories.application(applicant)

    response = client.post(f"{APPS}{app.id}/withdraw")

    assert (response.status_code, response.json()["state"]) == (200, ApplicationState.WITHDRAWN)
    assert client.post(f"{APPS}{app.id}/withdraw").json()["code"] == "invalid_transition"
    assert client.post(f"{APPS}{app.id}/submit").json()["code"] == "invalid_transition"
    assert _events(app.id) == ["partners.application.withdrawn"]

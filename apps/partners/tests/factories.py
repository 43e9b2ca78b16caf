"""Builders of partners test data: applications with their documents, and content of real files."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.organizations.validators import gstin_check_char
from apps.partners.models import (
    BusinessPartner,
    BusinessType,
    DocumentStatus,
    DocumentType,
    EntityClass,
    FilingCompliance,
    OnboardingApplication,
    PartnerDocument,
    PartnerMembership,
)

PAN = "AAPFU0939F"
GSTIN = "27" + PAN + "1Z" + gstin_check_char("27" + PAN + "1Z")

TINY_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
TINY_JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
NOT_A_PDF = b"just some text pretending to be a pdf\n"

INDIAN_TRADER_DOCUMENTS = [DocumentType.GST_CERTIFICATE, DocumentType.PAN_CARD, DocumentType.CANCELLED_CHEQUE]


def application_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "entity_class": EntityClass.BUSINESS_ENTITY,
        "business_type": BusinessType.PRIVATE_LIMITED,
        "legal_name": "Shree Ginning Private Limited",
        "trade_name": "Shree Ginning",
        "pan": PAN,
        "gstin": GSTIN,
        "address_line1": "Plot 4, Market Yard",
        "city": "Akola",
        "state_code": "27",
        "pincode": "444001",
        "contact_email": "office@shreeginning.example",
        "contact_phone": "+919812345678",
        "bank_account_number": "123456789012",
        "bank_ifsc": "SBIN0001234",
        "business_age_months": 36,
        "gst_turnover": Decimal("6000000"),
        "filing_compliance": FilingCompliance.GOOD,
    }
    data.update(overrides)
    return data


def pdf_upload(name: str = "doc.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


def application(applicant: Any, **overrides: Any) -> OnboardingApplication:
    return OnboardingApplication.objects.create(
        organization_id=applicant.organization_id, applicant=applicant, **application_data(**overrides)
    )


def document(
    app: OnboardingApplication, document_type: str, *, status: str = DocumentStatus.PENDING
) -> PartnerDocument:
    doc = PartnerDocument(
        application=app,
        document_type=document_type,
        content_type="application/pdf",
        size_bytes=len(TINY_PDF),
        status=status,
    )
    doc.file.save("doc.pdf", pdf_upload(), save=False)
    doc.save()
    return doc


def member(partner: BusinessPartner, role: str, **user_fields: Any) -> Any:
    """An external user of the partner's organization holding a membership with that role (and
    the role's object permissions)."""
    from apps.accounts.tests.factories import ExternalUserFactory
    from apps.partners.permissions import grant_partner_role

    user = ExternalUserFactory(organization_id=partner.organization_id, **user_fields)
    PartnerMembership.objects.create(user=user, partner=partner, role=role)
    grant_partner_role(user, partner, role)
    return user


_pan_serial = itertools.count(1)


def approved_partner(organization: Any, **overrides: Any) -> BusinessPartner:
    """A partner approved through the real onboarding services (its own PAN and GSTIN), with its
    owner attached as `partner.owner`."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
    from apps.partners import services

    n = next(_pan_serial)
    pan = f"AABC{chr(65 + n % 26)}{n % 10000:04d}{chr(65 + (n // 26) % 26)}"
    base = "24" + pan + "1Z"
    applicant = ExternalUserFactory(organization=organization)
    app = application(applicant, pan=pan, gstin=base + gstin_check_char(base), state_code="24", **overrides)
    for doc_type in INDIAN_TRADER_DOCUMENTS:
        document(app, doc_type)
    services.application_submit(applicant=applicant, application_id=app.id)
    officer = UserFactory(organization=organization)
    officer.groups.add(Group.objects.get(name=Role.KYC_OFFICER))
    for doc in app.documents.all():
        services.document_verify(actor=officer, document_id=doc.id)
    director = UserFactory(organization=organization)
    director.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    approval = services.application_approve(actor=director, application_id=app.id, credit_limit=Decimal("1000000"))
    partner = approval.partner
    partner.owner = applicant  # type: ignore[attr-defined]
    return partner

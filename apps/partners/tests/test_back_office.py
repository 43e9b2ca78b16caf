from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory
from apps.core.errors import PermissionDenied
from apps.events.models import OutboxEvent
from apps.partners import services
from apps.partners.errors import (
    ApplicationNotFound,
    DuplicateActiveGstin,
    InvalidTransition,
    MakerCheckerViolation,
)
from apps.partners.models import (
    Branch,
    BusinessPartner,
    OnboardingApplication,
    PartnerCodeCounter,
    PartnerDocument,
    PartnerMembership,
)
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db


def _events(app_id: Any) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=str(app_id)).order_by("position").values_list("type", flat=True)
    )


def _reviewed(applicant: Any, officer: Any, **overrides: Any) -> OnboardingApplication:
    app = factories.application(applicant, **overrides)
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(app, doc_type)
    services.application_submit(applicant=applicant, application_id=app.id)
    for document in app.documents.order_by("document_type"):
        services.document_verify(actor=officer, document_id=document.id)
    app.refresh_from_db()
    return app


def _nothing_created() -> tuple[int, int, int]:
    return (BusinessPartner.objects.count(), PartnerMembership.objects.count(), Branch.objects.count())


def test_verifying_a_document_puts_the_application_under_review(
    submitted_application: OnboardingApplication, kyc_officer: Any
) -> None:
    document = submitted_application.documents.get(document_type="PAN_CARD")

    services.document_verify(actor=kyc_officer, document_id=document.id)

    document.refresh_from_db()
    submitted_application.refresh_from_db()
    assert (document.status, document.verified_by_id) == ("VERIFIED", kyc_officer.id)
    assert (submitted_application.state, submitted_application.reviewed_by_id) == ("UNDER_REVIEW", kyc_officer.id)
    assert _events(submitted_application.id)[-2:] == ["partners.application.under_review", "partners.document.verified"]
    with pytest.raises(InvalidTransition):
        services.document_verify(actor=kyc_officer, document_id=document.id)


def test_rejecting_a_document_keeps_the_reason(submitted_application: OnboardingApplication, kyc_officer: Any) -> None:
    document = submitted_application.documents.get(document_type="CANCELLED_CHEQUE")

    services.document_reject(actor=kyc_officer, document_id=document.id, reason="Cheque is not cancelled")

    document.refresh_from_db()
    assert (document.status, document.rejection_reason) == ("REJECTED", "Cheque is not cancelled")
    assert _events(submitted_application.id)[-1] == "partners.document.rejected"


def test_a_user_without_the_review_capability_cannot_verify(
    submitted_application: OnboardingApplication, desk_manager: Any
) -> None:
    document = submitted_application.documents.get(document_type="PAN_CARD")

    with pytest.raises(PermissionDenied):
        services.document_verify(actor=desk_manager, document_id=document.id)

    document.refresh_from_db()
    submitted_application.refresh_from_db()
    assert (document.status, submitted_application.state) == ("PENDING", "SUBMITTED")


def test_staff_of_another_organization_do_not_find_the_application(
    submitted_application: OnboardingApplication, other_org_staff: Any
) -> None:
    with pytest.raises(ApplicationNotFound):
        services.application_request_info(actor=other_org_staff, application_id=submitted_application.id, message="x")
    submitted_application.refresh_from_db()
    assert submitted_application.state == "SUBMITTED"


def test_info_request_then_resubmit(
    authenticate: Any, applicant: Any, submitted_application: OnboardingApplication, kyc_officer: Any
) -> None:
    services.application_request_info(
        actor=kyc_officer, application_id=submitted_application.id, message="Upload a clearer PAN card"
    )
    client = authenticate(applicant)
    detail = client.get(f"/api/v1/partners/applications/{submitted_application.id}/").json()
    assert (detail["state"], detail["info_request_message"]) == ("INFO_REQUESTED", "Upload a clearer PAN card")

    assert (
        client.patch(
            f"/api/v1/partners/applications/{submitted_application.id}/", {"has_quality_lab": True}, format="json"
        ).status_code
        == 200
    )
    response = client.post(f"/api/v1/partners/applications/{submitted_application.id}/submit")

    assert (response.status_code, response.json()["state"], response.json()["risk_score"]) == (200, "SUBMITTED", 100)
    assert _events(submitted_application.id)[-3:] == [
        "partners.application.info_requested",
        "partners.application.updated",
        "partners.application.submitted",
    ]


def test_reject_with_reason_is_final(
    reviewed_application: OnboardingApplication, kyc_officer: Any, director: Any
) -> None:
    services.application_reject(actor=kyc_officer, application_id=reviewed_application.id, reason="Fake GST")

    reviewed_application.refresh_from_db()
    assert (reviewed_application.state, reviewed_application.decision_note) == ("REJECTED", "Fake GST")
    with pytest.raises(InvalidTransition):
        services.application_approve(actor=director, application_id=reviewed_application.id, credit_limit=Decimal(1))
    with pytest.raises(InvalidTransition):
        services.application_request_info(actor=kyc_officer, application_id=reviewed_application.id, message="x")
    assert _nothing_created() == (0, 0, 0)
    assert _events(reviewed_application.id)[-1] == "partners.application.rejected"


def test_a_submitted_application_is_approved_only_once_under_review(
    submitted_application: OnboardingApplication, desk_manager: Any
) -> None:
    with pytest.raises(InvalidTransition):
        services.application_approve(
            actor=desk_manager, application_id=submitted_application.id, credit_limit=Decimal("100")
        )
    assert _nothing_created() == (0, 0, 0)


def test_the_reviewer_cannot_approve(reviewed_application: OnboardingApplication, kyc_officer: Any) -> None:
    kyc_officer.groups.add(Group.objects.get(name=Role.DESK_MANAGER))
    kyc_officer = type(kyc_officer).objects.get(pk=kyc_officer.pk)  # fresh permission cache

    with pytest.raises(MakerCheckerViolation):
        services.application_approve(
            actor=kyc_officer, application_id=reviewed_application.id, credit_limit=Decimal("500000")
        )

    reviewed_application.refresh_from_db()
    assert (reviewed_application.state, reviewed_application.approved_by_id) == ("UNDER_REVIEW", None)
    assert _nothing_created() == (0, 0, 0)


def test_a_document_verifier_cannot_approve(
    reviewed_application: OnboardingApplication, desk_manager: Any, kyc_officer: Any
) -> None:
    PartnerDocument.objects.filter(application=reviewed_application, document_type="PAN_CARD").update(
        verified_by=desk_manager
    )

    with pytest.raises(MakerCheckerViolation):
        services.application_approve(
            actor=desk_manager, application_id=reviewed_application.id, credit_limit=Decimal("500000")
        )
    assert _nothing_created() == (0, 0, 0)


def test_a_high_risk_application_needs_a_director(
    organization: Any, kyc_officer: Any, desk_manager: Any, director: Any
) -> None:
    applicant = ExternalUserFactory(organization=organization)
    # 50 - 5 (proprietorship) - 15 (6 months) + 0 (average filing) = 30: HIGH, director.
    app = _reviewed(
        applicant,
        kyc_officer,
        business_type="PROPRIETORSHIP",
        business_age_months=6,
        gst_turnover=None,
        filing_compliance="AVERAGE",
    )
    assert (app.risk_score, app.risk_category, app.route) == (30, "HIGH", "DIRECTOR")

    with pytest.raises(PermissionDenied) as refused:
        services.application_approve(actor=desk_manager, application_id=app.id, credit_limit=Decimal("100000"))
    assert "partners.approve_high_risk" in refused.value.detail
    app.refresh_from_db()
    assert app.state == "UNDER_REVIEW"
    assert _nothing_created() == (0, 0, 0)

    approval = services.application_approve(actor=director, application_id=app.id, credit_limit=Decimal("100000"))

    assert approval.partner.code == "BP-000001"


def test_approval_creates_partner_owner_branch_permissions_and_kyc_expiry(
    reviewed_application: OnboardingApplication, desk_manager: Any, applicant: Any
) -> None:
    approval = services.application_approve(
        actor=desk_manager,
        application_id=reviewed_application.id,
        credit_limit=Decimal("2500000.00"),
        note="Known ginner, references checked",
    )

    partner = BusinessPartner.objects.get()
    assert (partner.code, partner.organization_id, partner.legal_name, partner.gstin) == (
        "BP-000001",
        applicant.organization_id,
        "Shree Ginning Private Limited",
        factories.GSTIN,
    )
    assert (partner.status, partner.kyc_status, partner.credit_limit) == ("ACTIVE", "VERIFIED", Decimal("2500000.00"))
    assert partner.kyc_expires_on == timezone.localdate() + timedelta(days=365)
    assert (partner.risk_score, partner.risk_category) == (95, "LOW")
    assert (partner.address_line1, partner.city, partner.state_code, partner.pincode) == (
        "Plot 4, Market Yard",
        "Akola",
        "27",
        "444001",
    )
    assert (partner.bank_account_number, partner.bank_ifsc, partner.contact_phone) == (
        "123456789012",
        "SBIN0001234",
        "+919812345678",
    )
    membership = PartnerMembership.objects.get()
    assert (membership.user_id, membership.partner_id, membership.role) == (applicant.id, partner.id, "OWNER")
    branch = Branch.objects.get()
    assert (branch.partner_id, branch.code, branch.branch_type, branch.state_code, branch.gstin) == (
        partner.id,
        "HO",
        "HEAD_OFFICE",
        "27",
        factories.GSTIN,
    )
    assert (branch.is_default_ship_to, branch.is_default_ship_from) == (True, True)
    applicant = type(applicant).objects.get(pk=applicant.pk)
    assert applicant.has_perm("partners.view_businesspartner", partner)
    assert applicant.has_perm("partners.change_businesspartner", partner)
    assert not applicant.has_perm("partners.view_businesspartner")
    assert set(PartnerDocument.objects.values_list("partner_id", flat=True)) == {partner.id}
    reviewed_application.refresh_from_db()
    assert (reviewed_application.state, reviewed_application.partner_id, reviewed_application.approved_by_id) == (
        "APPROVED",
        partner.id,
        desk_manager.id,
    )
    assert reviewed_application.decision_note == "Known ginner, references checked"
    assert approval.partner == partner
    assert _events(reviewed_application.id)[-1] == "partners.application.approved"
    assert OutboxEvent.objects.filter(type="partners.partner.created", partner_id=partner.id).count() == 1


def test_partner_codes_are_gapless_per_organization(
    organization: Any, other_organization: Any, kyc_officer: Any, desk_manager: Any, other_org_staff: Any
) -> None:
    from apps.accounts.tests.factories import UserFactory

    codes = []
    for pan_letter in "ABC":
        pan = f"AAPF{pan_letter}0939F"
        gstin = "27" + pan + "1Z" + factories.gstin_check_char("27" + pan + "1Z")
        app = _reviewed(ExternalUserFactory(organization=organization), kyc_officer, pan=pan, gstin=gstin)
        codes.append(
            services.application_approve(
                actor=desk_manager, application_id=app.id, credit_limit=Decimal(0)
            ).partner.code
        )
    other_officer = UserFactory(organization=other_organization)
    other_officer.user_permissions.add(Permission.objects.get(codename="change_onboardingapplication"))
    other_app = _reviewed(ExternalUserFactory(organization=other_organization), other_officer)
    other_code = services.application_approve(
        actor=other_org_staff, application_id=other_app.id, credit_limit=Decimal(0)
    ).partner.code

    assert codes == ["BP-000001", "BP-000002", "BP-000003"]
    assert other_code == "BP-000001"


def test_a_duplicate_active_gstin_refuses_approval_and_leaves_nothing(
    organization: Any, kyc_officer: Any, desk_manager: Any
) -> None:
    first = _reviewed(ExternalUserFactory(organization=organization), kyc_officer)
    services.application_approve(actor=desk_manager, application_id=first.id, credit_limit=Decimal(0))
    applicant = ExternalUserFactory(organization=organization)
    second = _reviewed(applicant, kyc_officer)
    before = _nothing_created()

    with pytest.raises(DuplicateActiveGstin):
        services.application_approve(actor=desk_manager, application_id=second.id, credit_limit=Decimal(0))

    assert before == (1, 1, 1)
    assert _nothing_created() == (1, 1, 1)
    assert not PartnerMembership.objects.filter(user=applicant).exists()
    assert PartnerCodeCounter.objects.get(organization=organization).last_number == 1
    second.refresh_from_db()
    assert (second.state, second.partner_id, second.approved_by_id) == ("UNDER_REVIEW", None, None)
    assert "partners.application.approved" not in _events(second.id)


def test_a_kyc_officer_assigned_to_one_application_may_verify_only_that_one(
    organization: Any, submitted_application: OnboardingApplication
) -> None:
    from guardian.shortcuts import assign_perm

    from apps.accounts.tests.factories import UserFactory

    officer = UserFactory(organization=organization)
    other = factories.application(ExternalUserFactory(organization=organization))
    other_document = factories.document(other, "PAN_CARD")
    assign_perm("partners.change_onboardingapplication", officer, submitted_application)
    document = submitted_application.documents.get(document_type="PAN_CARD")

    services.document_verify(actor=officer, document_id=document.id)

    document.refresh_from_db()
    assert (document.status, document.verified_by_id) == ("VERIFIED", officer.id)
    with pytest.raises(PermissionDenied):
        services.document_verify(actor=officer, document_id=other_document.id)


def test_approval_lands_in_the_audit_history(reviewed_application: OnboardingApplication, desk_manager: Any) -> None:
    from django.apps import apps

    approval = services.application_approve(
        actor=desk_manager, application_id=reviewed_application.id, credit_limit=Decimal("10")
    )

    partner_events = apps.get_model("partners", "BusinessPartnerEvent").objects.filter(pgh_obj_id=approval.partner.id)
    application_events = apps.get_model("partners", "OnboardingApplicationEvent").objects.filter(
        pgh_obj_id=reviewed_application.id
    )
    assert list(partner_events.values_list("pgh_label", flat=True)) == ["insert"]
    assert list(application_events.order_by("pgh_id").values_list("state", flat=True)) == [
        "DRAFT",
        "SUBMITTED",
        "UNDER_REVIEW",
        "APPROVED",
    ]

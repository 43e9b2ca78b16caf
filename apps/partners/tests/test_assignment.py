"""ARCHITECTURE section 7: an assigned KYC officer holds the review right on that one application
(a guardian object permission), granted and moved by whoever may approve applications."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.core.errors import PermissionDenied
from apps.core.tests.clients import staff_client
from apps.events.models import OutboxEvent
from apps.organizations.errors import FieldInvalid
from apps.partners import events, services
from apps.partners.errors import ApplicationNotAssignable, ApplicationNotFound, MakerCheckerViolation
from apps.partners.models import (
    OnboardingApplication,
    OnboardingApplicationUserObjectPermission,
)
from apps.partners.services.assignment import application_assign
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(organization: Any) -> Any:
    """A staff member WITHOUT the KYC officer role: only an assignment lets them review."""
    return UserFactory(organization=organization, full_name="Asha Officer")


@pytest.fixture
def second_officer(organization: Any) -> Any:
    return UserFactory(organization=organization, full_name="Bina Officer")


def _grants() -> list[tuple[Any, Any, str]]:
    return sorted(
        (row.user_id, row.content_object_id, row.permission.codename)
        for row in OnboardingApplicationUserObjectPermission.objects.select_related("permission")
    )


def _assigned_events() -> list[dict[str, Any]]:
    return list(
        OutboxEvent.objects.filter(type=events.APPLICATION_ASSIGNED)
        .order_by("position")
        .values_list("payload", flat=True)
    )


def _assert_unassigned(application: OnboardingApplication) -> None:
    application.refresh_from_db()
    assert application.assigned_to_id is None
    assert _grants() == []
    assert _assigned_events() == []


def test_a_desk_manager_assigns_an_officer_who_gets_the_review_right_on_that_application(
    submitted_application: OnboardingApplication, desk_manager: Any, officer: Any
) -> None:
    result = application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=officer.pk)

    submitted_application.refresh_from_db()
    assert result.assigned_to_id == submitted_application.assigned_to_id == officer.pk
    assert _grants() == [(officer.pk, submitted_application.pk, "change_onboardingapplication")]
    assert _assigned_events() == [
        {
            "application_id": str(submitted_application.pk),
            "state": "SUBMITTED",
            "assigned_to": str(officer.pk),
            "previous_assigned_to": None,
        }
    ]
    event = OutboxEvent.objects.get(type=events.APPLICATION_ASSIGNED)
    assert (event.organization_id, event.actor_id, event.aggregate_id) == (
        submitted_application.organization_id,
        desk_manager.pk,
        str(submitted_application.pk),
    )
    assert officer.has_perm("partners.change_onboardingapplication", submitted_application)
    assert not officer.has_perm("partners.change_onboardingapplication")  # no role capability


def test_the_assigned_officer_verifies_documents_of_that_application_only(
    organization: Any, submitted_application: OnboardingApplication, desk_manager: Any, officer: Any
) -> None:
    other = factories.application(ExternalUserFactory(organization=organization))
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(other, doc_type)
    services.application_submit(applicant=other.applicant, application_id=other.pk)
    other_document = other.documents.get(document_type="PAN_CARD")
    application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=officer.pk)
    document = submitted_application.documents.get(document_type="PAN_CARD")

    services.document_verify(actor=officer, document_id=document.pk)
    with pytest.raises(PermissionDenied):
        services.document_verify(actor=officer, document_id=other_document.pk)

    document.refresh_from_db()
    other_document.refresh_from_db()
    submitted_application.refresh_from_db()
    assert (document.status, document.verified_by_id) == ("VERIFIED", officer.pk)
    assert (submitted_application.state, submitted_application.reviewed_by_id) == ("UNDER_REVIEW", officer.pk)
    assert (other_document.status, other_document.verified_by_id) == ("PENDING", None)
    other.refresh_from_db()
    assert other.state == "SUBMITTED"


def test_reassigning_moves_the_review_right(
    submitted_application: OnboardingApplication, desk_manager: Any, officer: Any, second_officer: Any
) -> None:
    application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=officer.pk)

    application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=second_officer.pk)

    submitted_application.refresh_from_db()
    assert submitted_application.assigned_to_id == second_officer.pk
    assert _grants() == [(second_officer.pk, submitted_application.pk, "change_onboardingapplication")]
    assert _assigned_events()[-1]["previous_assigned_to"] == str(officer.pk)
    document = submitted_application.documents.get(document_type="PAN_CARD")
    with pytest.raises(PermissionDenied):
        services.document_verify(actor=officer, document_id=document.pk)
    services.document_verify(actor=second_officer, document_id=document.pk)
    document.refresh_from_db()
    assert document.verified_by_id == second_officer.pk


def test_unassigning_removes_the_review_right(
    submitted_application: OnboardingApplication, director: Any, officer: Any
) -> None:
    application_assign(actor=director, application_id=submitted_application.pk, officer_id=officer.pk)

    application_assign(actor=director, application_id=submitted_application.pk, officer_id=None)

    submitted_application.refresh_from_db()
    assert submitted_application.assigned_to_id is None
    assert _grants() == []
    assert [(e["assigned_to"], e["previous_assigned_to"]) for e in _assigned_events()] == [
        (str(officer.pk), None),
        (None, str(officer.pk)),
    ]
    with pytest.raises(PermissionDenied):
        services.document_verify(
            actor=officer, document_id=submitted_application.documents.get(document_type="PAN_CARD").pk
        )


def test_assigning_the_same_officer_again_emits_nothing(
    submitted_application: OnboardingApplication, desk_manager: Any, officer: Any
) -> None:
    application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=officer.pk)

    application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=officer.pk)

    assert len(_assigned_events()) == 1
    assert len(_grants()) == 1


def test_an_assigned_officer_who_verified_cannot_approve(
    submitted_application: OnboardingApplication, director: Any
) -> None:
    application_assign(actor=director, application_id=submitted_application.pk, officer_id=director.pk)
    for document in submitted_application.documents.all():
        services.document_verify(actor=director, document_id=document.pk)

    with pytest.raises(MakerCheckerViolation):
        services.application_approve(
            actor=director, application_id=submitted_application.pk, credit_limit=Decimal("1000")
        )


# --- refusals: nothing changes ------------------------------------------------------------------


def test_a_kyc_officer_cannot_assign(
    submitted_application: OnboardingApplication, kyc_officer: Any, officer: Any
) -> None:
    with pytest.raises(PermissionDenied) as excinfo:
        application_assign(actor=kyc_officer, application_id=submitted_application.pk, officer_id=officer.pk)

    assert excinfo.value.status == 403
    _assert_unassigned(submitted_application)


def test_staff_of_another_organization_do_not_find_the_application(
    submitted_application: OnboardingApplication, other_org_staff: Any
) -> None:
    with pytest.raises(ApplicationNotFound):
        application_assign(
            actor=other_org_staff, application_id=submitted_application.pk, officer_id=other_org_staff.pk
        )

    _assert_unassigned(submitted_application)


def test_the_applicant_does_not_find_the_application_as_back_office(
    submitted_application: OnboardingApplication, officer: Any
) -> None:
    with pytest.raises(ApplicationNotFound):
        application_assign(
            actor=submitted_application.applicant, application_id=submitted_application.pk, officer_id=officer.pk
        )

    _assert_unassigned(submitted_application)


@pytest.mark.parametrize("who", ["other_org_staff", "external", "inactive", "missing"])
def test_the_officer_must_be_active_staff_of_the_organization(
    request: pytest.FixtureRequest,
    organization: Any,
    submitted_application: OnboardingApplication,
    desk_manager: Any,
    who: str,
) -> None:
    import uuid

    if who == "other_org_staff":
        officer_id = request.getfixturevalue("other_org_staff").pk
    elif who == "external":
        officer_id = ExternalUserFactory(organization=organization).pk
    elif who == "inactive":
        officer_id = UserFactory(organization=organization, is_active=False).pk
    else:
        officer_id = uuid.uuid4()

    with pytest.raises(FieldInvalid) as excinfo:
        application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=officer_id)

    assert (excinfo.value.code, excinfo.value.status) == ("validation_failed", 400)
    assert excinfo.value.errors[0]["attr"] == "officer_id"
    assert excinfo.value.errors[0]["code"] == "not_staff_of_organization"
    _assert_unassigned(submitted_application)


def test_a_draft_or_decided_application_cannot_be_assigned(
    applicant: Any, approval: services.Approval, desk_manager: Any, officer: Any
) -> None:
    approved = OnboardingApplication.objects.get(partner=approval.partner)
    draft = factories.application(ExternalUserFactory(organization=approved.organization))

    for application in (approved, draft):
        with pytest.raises(ApplicationNotAssignable) as excinfo:
            application_assign(actor=desk_manager, application_id=application.pk, officer_id=officer.pk)
        assert (excinfo.value.code, excinfo.value.status) == ("application_not_assignable", 409)
        _assert_unassigned(application)


# --- admin --------------------------------------------------------------------------------------


def test_admin_assign_button_offers_the_organizations_staff_and_assigns(
    submitted_application: OnboardingApplication,
    desk_manager: Any,
    officer: Any,
    other_org_staff: Any,
) -> None:
    applicant = submitted_application.applicant
    client = staff_client(desk_manager)
    url = f"/admin/partners/onboardingapplication/{submitted_application.pk}/actions/assign_officer/"

    form = client.get(url)
    choices = {str(value) for value, _ in form.context["form"].fields["officer"].choices if value}
    response = client.post(url, {"officer": officer.pk}, follow=True)

    assert form.status_code == 200
    assert str(officer.pk) in choices
    assert str(desk_manager.pk) in choices
    assert str(other_org_staff.pk) not in choices
    assert str(applicant.pk) not in choices
    assert "KYC officer assigned." in [str(m) for m in response.context["messages"]]
    submitted_application.refresh_from_db()
    assert submitted_application.assigned_to_id == officer.pk


def test_admin_hides_the_assign_button_from_a_kyc_officer_and_refuses_the_action(
    submitted_application: OnboardingApplication, kyc_officer: Any, officer: Any
) -> None:
    client = staff_client(kyc_officer)
    url = f"/admin/partners/onboardingapplication/{submitted_application.pk}/actions/assign_officer/"

    page = client.get(f"/admin/partners/onboardingapplication/{submitted_application.pk}/change/")
    response = client.post(url, {"officer": officer.pk}, follow=True)

    assert page.status_code == 200
    assert "actions/assign_officer/" not in page.content.decode()
    assert "(permission_denied)" in response.content.decode()  # the form again, the refusal on it (issue 17)
    _assert_unassigned(submitted_application)


def test_admin_assigned_to_me_filter(
    organization: Any, submitted_application: OnboardingApplication, desk_manager: Any, kyc_officer: Any
) -> None:
    other = factories.application(ExternalUserFactory(organization=organization))
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(other, doc_type)
    services.application_submit(applicant=other.applicant, application_id=other.pk)
    application_assign(actor=desk_manager, application_id=submitted_application.pk, officer_id=kyc_officer.pk)
    client = staff_client(kyc_officer)

    mine = client.get("/admin/partners/onboardingapplication/?assigned=me")
    nobody = client.get("/admin/partners/onboardingapplication/?assigned=nobody")
    by_id = client.get(f"/admin/partners/onboardingapplication/?assigned={kyc_officer.pk}")
    garbage = client.get("/admin/partners/onboardingapplication/?assigned=not-a-uuid")

    assert [a.pk for a in mine.context["cl"].result_list] == [submitted_application.pk]
    assert [a.pk for a in nobody.context["cl"].result_list] == [other.pk]
    assert [a.pk for a in by_id.context["cl"].result_list] == [submitted_application.pk]
    assert list(garbage.context["cl"].result_list) == []

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.partners import services
from apps.partners.models import OnboardingApplication
from apps.partners.resolvers import register_resolvers
from apps.partners.tests import factories


@pytest.fixture(autouse=True)
def _partner_resolvers() -> None:
    """Other apps' tests replace or remove the resolvers this app registers in ready(); put them back."""
    register_resolvers()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _staff(organization: Any, role: str) -> Any:
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def applicant(organization: Any) -> Any:
    return ExternalUserFactory(organization=organization)


@pytest.fixture
def other_applicant(organization: Any) -> Any:
    return ExternalUserFactory(organization=organization)


@pytest.fixture
def kyc_officer(organization: Any) -> Any:
    """A KYC officer: the role carries the review capability."""
    return _staff(organization, Role.KYC_OFFICER)


@pytest.fixture
def risk_officer(organization: Any) -> Any:
    return _staff(organization, Role.RISK_OFFICER)


@pytest.fixture
def desk_manager(organization: Any) -> Any:
    return _staff(organization, Role.DESK_MANAGER)


@pytest.fixture
def director(organization: Any) -> Any:
    return _staff(organization, Role.ORGANIZATION_ADMIN)


@pytest.fixture
def other_org_staff(other_organization: Any) -> Any:
    return _staff(other_organization, Role.ORGANIZATION_ADMIN)


@pytest.fixture
def submitted_application(applicant: Any) -> OnboardingApplication:
    """A private limited trader's application, submitted with its three documents (LOW risk: 95)."""
    app = factories.application(applicant)
    for doc_type in factories.INDIAN_TRADER_DOCUMENTS:
        factories.document(app, doc_type)
    return services.application_submit(applicant=applicant, application_id=app.id)


@pytest.fixture
def reviewed_application(submitted_application: OnboardingApplication, kyc_officer: Any) -> OnboardingApplication:
    """Under review: the KYC officer verified every document."""
    for document in submitted_application.documents.order_by("document_type"):
        services.document_verify(actor=kyc_officer, document_id=document.id)
    submitted_application.refresh_from_db()
    return submitted_application


@pytest.fixture
def approval(reviewed_application: OnboardingApplication, director: Any) -> services.Approval:
    """The reviewed application approved by the director: partner BP-000001 (ACTIVE, KYC
    verified for a year), its OWNER membership and head-office branch."""
    return services.application_approve(
        actor=director, application_id=reviewed_application.id, credit_limit=Decimal("5000000")
    )


@pytest.fixture
def partner(approval: services.Approval) -> Any:
    return approval.partner


@pytest.fixture
def owner(approval: services.Approval) -> Any:
    return approval.membership.user


@pytest.fixture
def trader(partner: Any) -> Any:
    return factories.member(partner, "TRADER")


@pytest.fixture
def viewer(partner: Any) -> Any:
    return factories.member(partner, "VIEWER")


@pytest.fixture
def other_partner(organization: Any) -> Any:
    """Another approved partner of the same organization, with its owner (`other_partner.owner`)."""
    return factories.approved_partner(organization)


@pytest.fixture
def foreign_partner(other_organization: Any) -> Any:
    """An approved partner of another organization, with its owner (`foreign_partner.owner`)."""
    return factories.approved_partner(other_organization)

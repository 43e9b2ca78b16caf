"""The back office's tests reuse the trade desk's fixtures (cotton, a seller and a buyer approved
through the real services, desk staff) and add an onboarding application and the other roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.partners import services as partner_services
from apps.partners.models import OnboardingApplication
from apps.partners.tests import factories as partner_factories
from apps.tradedesk.tests.conftest import *  # noqa: F403 - the trade desk's fixtures


def staff(organization: Any, role: str) -> Any:
    user = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def organization_admin(organization: Any) -> Any:
    return staff(organization, Role.ORGANIZATION_ADMIN)


@pytest.fixture
def risk_officer(organization: Any) -> Any:
    return staff(organization, Role.RISK_OFFICER)


@pytest.fixture
def applicant(organization: Any) -> Any:
    return ExternalUserFactory(organization=organization)


def submitted(applicant: Any, **overrides: Any) -> OnboardingApplication:
    app = partner_factories.application(applicant, **overrides)
    for doc_type in partner_factories.INDIAN_TRADER_DOCUMENTS:
        partner_factories.document(app, doc_type)
    return partner_services.application_submit(applicant=applicant, application_id=app.id)


@pytest.fixture
def submitted_application(applicant: Any) -> OnboardingApplication:
    return submitted(applicant)

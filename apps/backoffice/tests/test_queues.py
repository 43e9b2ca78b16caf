"""The admin home's work queues: each role sees its own queues, counted from its organization's
rows only, each linking to a changelist that lists exactly those rows."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory
from apps.backoffice.queues import work_queues
from apps.backoffice.tests.conftest import submitted
from apps.core.tests.clients import staff_client
from apps.events.emit import emit
from apps.events.models import EventStatus, OutboxEvent
from apps.partners.models import DocumentStatus
from apps.partners.services.assignment import application_assign
from apps.partners.tests.factories import gstin_check_char
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db


def _identity(pan: str) -> dict[str, str]:
    base = "24" + pan + "1Z"
    return {"pan": pan, "gstin": base + gstin_check_char(base), "state_code": "24"}


def _counts(user: Any) -> dict[str, int]:
    return {queue.key: queue.count for queue in work_queues(user)}


def _page_counts(html: str) -> dict[str, int]:
    return {
        key: int(count)
        for key, count in re.findall(r'data-queue="([a-z_]+)">\s*<a [^>]*><span class="bo-count">(\d+)</span>', html)
    }


@pytest.fixture
def desk(seller: Any, cotton: Any, foreign_partner: Any, organization: Any, other_organization: Any) -> None:
    """Two postings pending approval here, one elsewhere; one active; a partner whose KYC lapses in
    10 days; a dead event here and one elsewhere."""
    factories.availability(seller, cotton, status="PENDING_APPROVAL")
    factories.availability(seller, cotton, status="PENDING_APPROVAL")
    factories.availability(seller, cotton)
    factories.availability(foreign_partner, cotton, status="PENDING_APPROVAL")
    seller.kyc_expires_on = timezone.localdate() + timedelta(days=10)
    seller.save(update_fields=["kyc_expires_on"])
    for org in (organization, other_organization):
        with transaction.atomic():
            event = emit("test.bale.graded", aggregate_type="test.bale", aggregate_id="1", organization_id=org.pk)
        OutboxEvent.objects.filter(pk=event.pk).update(status=EventStatus.DEAD)


def test_each_role_sees_its_queues_counted_in_its_organization(
    desk: None,
    applicant: Any,
    kyc_officer: Any,
    desk_manager: Any,
    risk_officer: Any,
    organization_admin: Any,
    other_org_desk_manager: Any,
    other_organization: Any,
) -> None:
    mine = submitted(applicant)
    unassigned = submitted(ExternalUserFactory(organization=applicant.organization), **_identity("AABCZ9999Z"))
    submitted(ExternalUserFactory(organization=other_organization), **_identity("AABCY9999Y"))
    application_assign(actor=organization_admin, application_id=mine.pk, officer_id=kyc_officer.pk)
    assert unassigned.assigned_to_id is None

    assert _counts(kyc_officer) == {
        "applications_to_review": 1,
        "applications_unassigned": 1,
        "documents_pending": 6,
        "kyc_expiring": 1,
    }
    desk_counts = _counts(desk_manager)
    assert desk_counts["postings_to_approve"] == 2
    assert desk_counts["kyc_expiring"] == 1
    assert "applications_to_review" in desk_counts
    assert _counts(other_org_desk_manager)["postings_to_approve"] == 1
    assert _counts(risk_officer)["limit_requests"] == 0
    assert _counts(SuperAdminFactory())["dead_events"] == 2


def test_the_admin_home_shows_the_same_counts_and_the_links_list_those_rows(
    desk: None, kyc_officer: Any, desk_manager: Any
) -> None:
    for user in (kyc_officer, desk_manager):
        client = staff_client(user)
        home = client.get("/admin/")
        assert home.status_code == 200
        assert _page_counts(home.content.decode()) == _counts(user)

    client = staff_client(desk_manager)
    queue = next(q for q in work_queues(desk_manager) if q.key == "postings_to_approve")
    listed = client.get(queue.url)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 2
    # The list opens on the actionable state by default, and "All" shows everything.
    assert client.get("/admin/tradedesk/availability/").context["cl"].result_count == 2
    assert client.get("/admin/tradedesk/availability/?queue=all").context["cl"].result_count == 3


def test_the_onboarding_queue_opens_on_undecided_applications(
    submitted_application: Any, kyc_officer: Any, organization_admin: Any
) -> None:
    for document in submitted_application.documents.all():
        document.status = DocumentStatus.VERIFIED
        document.save(update_fields=["status"])
    client = staff_client(kyc_officer)
    assert client.get("/admin/partners/onboardingapplication/").context["cl"].result_count == 1
    submitted_application.state = "REJECTED"
    submitted_application.save(update_fields=["state"])
    assert client.get("/admin/partners/onboardingapplication/").context["cl"].result_count == 0
    assert client.get("/admin/partners/onboardingapplication/?queue=all").context["cl"].result_count == 1
    assert client.get("/admin/partners/onboardingapplication/?state__exact=REJECTED").context["cl"].result_count == 1


def test_a_partner_user_has_no_queues(seller: Any) -> None:
    assert work_queues(seller.owner) == []

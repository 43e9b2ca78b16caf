"""Readable, honest admin screens: only the buttons the state and the user allow (with a line
saying why not), refusals shown in place with the input kept, documents reviewed inline, service
buttons logged to "Recent actions", bulk decisions through the services reported per row, and
exports of the operational lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry

from apps.core.tests.clients import staff_client
from apps.partners.models import DocumentStatus, OnboardingApplication
from apps.tradedesk.models import Availability, AvailabilityStatus
from apps.tradedesk.services import availabilities as posting_services
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

APPLICATIONS = "/admin/partners/onboardingapplication/"
AVAILABILITIES = "/admin/tradedesk/availability/"


def _pending(seller: Any, cotton: Any) -> Availability:
    availability = posting_services.availability_create(
        actor=seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton)
    )
    return posting_services.availability_submit(actor=seller.owner, availability_id=availability.pk)


def _tools(response: Any) -> list[str]:
    return [tool["name"] for tool in response.context["objectactions"]]


def test_a_decided_application_offers_no_decision_and_says_why(
    submitted_application: OnboardingApplication, kyc_officer: Any
) -> None:
    client = staff_client(kyc_officer)
    url = f"{APPLICATIONS}{submitted_application.pk}/change/"
    undecided = client.get(url)
    assert _tools(undecided) == ["request_info"]
    assert "Approve / reject: This application is routed to the desk manager level" in undecided.content.decode()
    assert b'name="_save"' not in undecided.content  # nothing is editable here

    submitted_application.state = "REJECTED"
    submitted_application.save(update_fields=["state"])
    decided = client.get(url)
    assert _tools(decided) == []
    assert "This application is rejected: nothing is left to decide." in decided.content.decode()


def test_an_active_partner_offers_suspend_and_block_not_reactivate(seller: Any, organization_admin: Any) -> None:
    response = staff_client(organization_admin).get(f"/admin/partners/businesspartner/{seller.pk}/change/")
    tools = _tools(response)
    assert "suspend" in tools
    assert "block" in tools
    assert "reactivate" not in tools


def test_documents_are_reviewed_inline_and_a_reject_without_reason_keeps_the_page(
    submitted_application: OnboardingApplication, kyc_officer: Any
) -> None:
    client = staff_client(kyc_officer)
    pan_card = submitted_application.documents.get(document_type="PAN_CARD")
    decide = f"{APPLICATIONS}{submitted_application.pk}/documents/{pan_card.pk}/decide/"

    refused = client.post(decide, {"decision": "reject", "reason": "  "})
    assert refused.status_code == 200
    assert "documents-review" in refused.content.decode()
    assert "(validation_failed)" in refused.content.decode()
    pan_card.refresh_from_db()
    assert pan_card.status == DocumentStatus.PENDING

    done = client.post(f"{APPLICATIONS}{submitted_application.pk}/documents/verify-all/")
    assert done.status_code == 302
    assert set(submitted_application.documents.values_list("status", flat=True)) == {DocumentStatus.VERIFIED}
    entry = LogEntry.objects.get(user=kyc_officer)
    assert entry.object_id == str(submitted_application.pk)
    assert entry.change_message.startswith("Verified: ")


def test_a_refused_action_form_is_shown_again_with_the_input(
    seller: Any, cotton: Any, financial_year: Any, desk_manager: Any
) -> None:
    availability = _pending(seller, cotton)
    seller.status = "SUSPENDED"
    seller.save(update_fields=["status"])
    client = staff_client(desk_manager)
    response = client.post(
        f"{AVAILABILITIES}{availability.pk}/actions/approve/", {"note": "looks fine", "_confirm": "Approve"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "looks fine" in body
    assert 'class="errorlist nonfield"' in body
    availability.refresh_from_db()
    assert availability.status == AvailabilityStatus.PENDING_APPROVAL
    assert not LogEntry.objects.exists()


def test_bulk_approve_goes_through_the_service_and_reports_each_refusal(
    seller: Any, cotton: Any, financial_year: Any, desk_manager: Any
) -> None:
    first, second = _pending(seller, cotton), _pending(seller, cotton)
    keyed_by_the_manager = posting_services.availability_submit(
        actor=desk_manager,
        availability_id=posting_services.availability_create(
            actor=desk_manager, partner_id=seller.pk, fields=factories.availability_fields(cotton)
        ).pk,
    )
    client = staff_client(desk_manager)
    response = client.post(
        AVAILABILITIES,
        {"action": "approve_selected", "_selected_action": [first.pk, second.pk, keyed_by_the_manager.pk]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages[0].startswith("2 approved: ")
    assert len(messages) == 2
    assert str(keyed_by_the_manager) in messages[1]
    statuses = dict(Availability.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: AvailabilityStatus.ACTIVE,
        second.pk: AvailabilityStatus.ACTIVE,
        keyed_by_the_manager.pk: AvailabilityStatus.PENDING_APPROVAL,
    }
    assert LogEntry.objects.filter(user=desk_manager).count() == 2


def test_postings_show_the_units_entered_and_export_as_csv(
    seller: Any, cotton: Any, foreign_partner: Any, desk_manager: Any
) -> None:
    mine = factories.availability(seller, cotton)
    factories.availability(foreign_partner, cotton)
    client = staff_client(desk_manager)
    page = client.get(f"{AVAILABILITIES}{mine.pk}/change/").content.decode()
    assert "100 bale (17,000 kg)" in page
    assert "Rs 60,000.00 / candy (Rs 168.72 / kg)" in page
    assert '<table class="bo-kv">' in page

    exported = client.post(
        f"{AVAILABILITIES}export/?queue=all",
        {"format": "0", "resource": "0", "availabilityresource_number": "on", "availabilityresource_total_kg": "on"},
    )
    if exported.status_code != 200 or "text/csv" not in exported.get("Content-Type", ""):
        pytest.fail(f"export answered {exported.status_code}: {exported.content[:300]!r}")
    rows = exported.content.decode().strip().splitlines()
    assert rows == ["number,total_kg", f"{mine.number},17000.000"]  # this organization's only


def test_the_timeline_says_who_changed_which_field_from_what_to_what(
    seller: Any, cotton: Any, financial_year: Any, desk_manager: Any, other_org_desk_manager: Any
) -> None:
    availability = _pending(seller, cotton)
    client = staff_client(desk_manager)
    approved = client.post(f"{AVAILABILITIES}{availability.pk}/actions/approve/", {"note": "", "_confirm": "Approve"})
    assert approved.status_code == 302

    change_page = client.get(f"{AVAILABILITIES}{availability.pk}/change/").content.decode()
    timeline_url = f"/admin/backoffice/timeline/tradedesk/availability/{availability.pk}/"
    assert timeline_url in change_page
    assert "events-admin" not in change_page  # pghistory's raw Events stay the platform admin's

    page = client.get(timeline_url)
    assert page.status_code == 200
    newest = page.context["entries"][0]
    assert newest.who == (desk_manager.full_name or desk_manager.email)
    assert ("Status", "Pending approval", "Active") in [(c.label, c.old, c.new) for c in newest.changes]
    assert str(newest.when.utcoffset()) == "5:30:00"  # IST

    assert staff_client(other_org_desk_manager).get(timeline_url).status_code == 404
    assert client.get("/admin/backoffice/timeline/tradedesk/availability/not-a-uuid/").status_code == 404

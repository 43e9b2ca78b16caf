"""The availability queue in the admin: staff see their organization's availabilities, filter by
status and commodity, and decide a pending one with Approve / Reject buttons that call the
services; a refusal (maker-checker, a partner no longer allowed to sell) is reported and changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from apps.commodities.tests.factories import cotton as build_cotton
from apps.core.tests.clients import staff_client
from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner
from apps.tradedesk import events
from apps.tradedesk.models import Availability
from apps.tradedesk.services import availabilities as services
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tradedesk/availability/"


def _change_url(availability: Availability) -> str:
    return f"{CHANGELIST}{availability.pk}/change/"


def _action_url(availability: Availability, tool: str) -> str:
    return f"{CHANGELIST}{availability.pk}/actions/{tool}/"


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _pending(seller: Any, cotton: Any, actor: Any = None) -> Availability:
    actor = actor or seller.owner
    availability = services.availability_create(
        actor=actor, partner_id=seller.pk, fields=factories.availability_fields(cotton)
    )
    return services.availability_submit(actor=actor, availability_id=availability.pk)


def test_a_desk_manager_approves_from_the_queue(seller, cotton, financial_year, desk_manager, foreign_partner):
    pending = _pending(seller, cotton)
    factories.availability(seller, cotton)  # ACTIVE: not in the pending filter
    factories.availability(seller, build_cotton("KAPAS"), status="PENDING_APPROVAL")  # another commodity
    factories.availability(foreign_partner, cotton, status="PENDING_APPROVAL")  # another organization
    manager = staff_client(desk_manager)

    queue = manager.get(CHANGELIST, {"status__exact": "PENDING_APPROVAL", "commodity__id__exact": str(cotton.pk)})
    assert queue.status_code == 200
    assert list(queue.context["cl"].result_list) == [pending]
    everything = manager.get(CHANGELIST)
    assert Availability.objects.get(partner=foreign_partner) not in list(everything.context["cl"].result_list)
    page = manager.get(_change_url(pending))
    assert page.status_code == 200
    assert _action_url(pending, "approve") in page.content.decode()
    assert _action_url(pending, "reject") in page.content.decode()
    assert manager.get(_action_url(pending, "approve")).status_code == 200

    response = manager.post(_action_url(pending, "approve"), {"note": "Lab report attached"}, follow=True)

    assert "Availability approved; it is on the market." in _messages(response)
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.decision_note) == (
        "ACTIVE",
        desk_manager,
        "Lab report attached",
    )
    assert OutboxEvent.objects.filter(type=events.AVAILABILITY_APPROVED).count() == 1
    assert _action_url(pending, "approve") not in manager.get(_change_url(pending)).content.decode()


def test_a_desk_manager_rejects_with_a_reason(seller, cotton, financial_year, desk_manager):
    pending = _pending(seller, cotton)
    manager = staff_client(desk_manager)

    blank = manager.post(_action_url(pending, "reject"), {"reason": ""})
    assert blank.status_code == 200  # the form again, with its error
    pending.refresh_from_db()
    assert pending.status == "PENDING_APPROVAL"

    response = manager.post(_action_url(pending, "reject"), {"reason": "Trash 6%, above the contract"}, follow=True)

    assert "Availability rejected." in _messages(response)
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == ("REJECTED", "Trash 6%, above the contract")


def test_the_manager_who_keyed_it_is_told_why_and_nothing_changes(seller, cotton, financial_year, desk_manager):
    pending = _pending(seller, cotton, actor=desk_manager)
    manager = staff_client(desk_manager)

    response = manager.post(_action_url(pending, "approve"), {"note": ""}, follow=True)

    assert response.status_code == 200  # the form again, the refusal on it (issue 17)
    assert "(maker_checker_violation)" in response.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("PENDING_APPROVAL", None)
    assert OutboxEvent.objects.filter(type=events.AVAILABILITY_APPROVED).count() == 0


def test_a_suspended_sellers_offer_is_not_approved(seller, cotton, financial_year, desk_manager):
    pending = _pending(seller, cotton)
    BusinessPartner.objects.filter(pk=seller.pk).update(status="SUSPENDED")

    response = staff_client(desk_manager).post(_action_url(pending, "approve"), {"note": ""}, follow=True)

    assert "(partner_not_active)" in response.content.decode()  # on the form shown again (issue 17)
    pending.refresh_from_db()
    assert pending.status == "PENDING_APPROVAL"


def test_another_organizations_staff_cannot_see_or_decide(seller, cotton, financial_year, other_org_desk_manager):
    pending = _pending(seller, cotton)
    stranger = staff_client(other_org_desk_manager)

    assert list(stranger.get(CHANGELIST).context["cl"].result_list) == []
    assert stranger.get(_change_url(pending)).status_code in (302, 404)
    response = stranger.post(_action_url(pending, "approve"), {"note": ""}, follow=True)

    assert any("(availability_not_found)" in message for message in _messages(response))
    pending.refresh_from_db()
    assert pending.status == "PENDING_APPROVAL"


def test_a_kyc_officer_without_the_desk_capability_cannot_approve(seller, cotton, financial_year, kyc_officer):
    pending = _pending(seller, cotton)

    response = staff_client(kyc_officer).post(_action_url(pending, "approve"), {"note": ""})

    assert response.status_code in (200, 302, 403)  # 200: the form again with the refusal (issue 17)
    pending.refresh_from_db()
    assert pending.status == "PENDING_APPROVAL"

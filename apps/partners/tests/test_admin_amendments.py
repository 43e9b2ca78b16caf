"""The amendment queue in the admin: staff see their organization's amendments, old and new values
side by side (bank numbers masked), and decide with Approve / Reject buttons that call the
services; a refusal is reported and changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.core.tests.clients import staff_client
from apps.events.models import OutboxEvent
from apps.partners import events
from apps.partners.models import BusinessPartner, PartnerAmendment
from apps.partners.services.amendments import amendment_request

pytestmark = pytest.mark.django_db

NEW_BANK = {
    "bank_account_holder": "Shree Ginning Pvt Ltd",
    "bank_account_number": "987654321098",
    "bank_ifsc": "HDFC0000123",
}
CHANGELIST = "/admin/partners/partneramendment/"


def _change_url(amendment: PartnerAmendment) -> str:
    return f"{CHANGELIST}{amendment.pk}/change/"


def _action_url(amendment: PartnerAmendment, tool: str) -> str:
    return f"{CHANGELIST}{amendment.pk}/actions/{tool}/"


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def bank_amendment(partner: Any, owner: Any) -> PartnerAmendment:
    BusinessPartner.objects.filter(pk=partner.pk).update(
        bank_account_holder="Shree Ginning Private Limited", bank_account_number="123456789012", bank_ifsc="SBIN0001234"
    )
    return amendment_request(actor=owner, partner_id=partner.pk, kind="BANK", new_values=NEW_BANK)


def test_a_desk_manager_approves_a_bank_change_from_the_queue(
    bank_amendment: PartnerAmendment, partner: Any, desk_manager: Any
) -> None:
    manager = staff_client(desk_manager)

    queue = manager.get(CHANGELIST, {"status__exact": "PENDING", "kind__exact": "BANK"})
    assert queue.status_code == 200
    assert list(queue.context["cl"].result_list) == [bank_amendment]
    page = manager.get(_change_url(bank_amendment))
    assert page.status_code == 200
    html = page.content.decode()
    assert "***9012" in html
    assert "***1098" in html
    assert "987654321098" not in html
    assert "123456789012" not in html
    assert _action_url(bank_amendment, "approve") in html
    assert manager.get(_action_url(bank_amendment, "approve")).status_code == 200

    response = manager.post(_action_url(bank_amendment, "approve"), {"note": "Cheque matches"}, follow=True)

    assert "Amendment approved; the partner's values are changed." in _messages(response)
    bank_amendment.refresh_from_db()
    assert (bank_amendment.status, bank_amendment.decided_by, bank_amendment.decision_note) == (
        "APPROVED",
        desk_manager,
        "Cheque matches",
    )
    partner.refresh_from_db()
    assert (partner.bank_account_number, partner.bank_ifsc, partner.payouts_frozen) == (
        "987654321098",
        "HDFC0000123",
        False,
    )
    assert OutboxEvent.objects.filter(type=events.AMENDMENT_APPROVED, actor_id=desk_manager.pk).count() == 1
    decided = manager.get(_change_url(bank_amendment)).content.decode()
    assert _action_url(bank_amendment, "approve") not in decided  # no buttons once decided


def test_a_rejection_from_the_admin_needs_a_reason(
    bank_amendment: PartnerAmendment, partner: Any, director: Any
) -> None:
    client = staff_client(director)

    form = client.post(_action_url(bank_amendment, "reject"), {"reason": ""})
    assert form.status_code == 200  # the form again, with its error
    bank_amendment.refresh_from_db()
    assert bank_amendment.status == "PENDING"

    response = client.post(_action_url(bank_amendment, "reject"), {"reason": "Holder name differs"}, follow=True)

    assert "Amendment rejected." in _messages(response)
    bank_amendment.refresh_from_db()
    assert (bank_amendment.status, bank_amendment.decision_note) == ("REJECTED", "Holder name differs")
    partner.refresh_from_db()
    assert (partner.bank_account_number, partner.payouts_frozen) == ("123456789012", False)


def test_a_kyc_officer_may_look_but_not_decide(
    bank_amendment: PartnerAmendment, partner: Any, kyc_officer: Any
) -> None:
    client = staff_client(kyc_officer)
    assert client.get(_change_url(bank_amendment)).status_code == 200

    response = client.post(_action_url(bank_amendment, "approve"), {"note": ""}, follow=True)

    assert (  # the form again, the refusal on it (issue 17)
        "Deciding amendments needs the partners.decide_amendment capability. (permission_denied)"
        in response.content.decode()
    )
    bank_amendment.refresh_from_db()
    partner.refresh_from_db()
    assert (bank_amendment.status, partner.bank_account_number, partner.payouts_frozen) == (
        "PENDING",
        "123456789012",
        True,
    )
    assert not OutboxEvent.objects.filter(type=events.AMENDMENT_APPROVED).exists()


def test_the_desk_manager_who_keyed_an_amendment_is_told_another_must_approve(partner: Any, desk_manager: Any) -> None:
    amendment = amendment_request(
        actor=desk_manager, partner_id=partner.pk, kind="CREDIT_LIMIT", new_values={"credit_limit": "9000000"}
    )

    response = staff_client(desk_manager).post(_action_url(amendment, "approve"), {"note": ""}, follow=True)

    assert (  # the form again, the refusal on it (issue 17)
        "The staff member who keyed an amendment cannot also decide it. (maker_checker_violation)"
        in response.content.decode()
    )
    amendment.refresh_from_db()
    partner.refresh_from_db()
    assert (amendment.status, partner.credit_limit) == ("PENDING", Decimal("5000000"))


def test_staff_of_another_organization_neither_see_nor_decide_the_amendment(
    bank_amendment: PartnerAmendment, partner: Any, other_org_staff: Any, foreign_partner: Any
) -> None:
    theirs = amendment_request(
        actor=foreign_partner.owner,
        partner_id=foreign_partner.pk,
        kind="CREDIT_LIMIT",
        new_values={"credit_limit": "2000000"},
    )
    client = staff_client(other_org_staff)

    queue = client.get(CHANGELIST)
    assert list(queue.context["cl"].result_list) == [theirs]
    assert client.get(_change_url(bank_amendment)).status_code == 302  # a missing object: back to the index
    response = client.post(_action_url(bank_amendment, "approve"), {"note": ""}, follow=True)

    assert "No such amendment of this partner. (amendment_not_found)" in _messages(response)
    bank_amendment.refresh_from_db()
    partner.refresh_from_db()
    assert (bank_amendment.status, partner.bank_account_number) == ("PENDING", "123456789012")

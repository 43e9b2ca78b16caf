"""The risk desk in the admin: the dashboard (bands with counts, newest alerts, requests waiting),
credit rows scoped to the organization with the stage breakdown and recommendations, Set limit,
and Approve / Reject on a waiting change (maker-checker reported, nothing changed)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.core.tests.clients import staff_client
from apps.risk.models import CreditAccount, ExposureStage, LimitChange
from apps.risk.services.exposure import exposure_book
from apps.risk.services.limits import credit_limit_set
from apps.risk.tests.factories import set_credit

pytestmark = pytest.mark.django_db


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _book(partner: Any, amount: str) -> None:
    with transaction.atomic():
        exposure_book(
            partner_id=partner.pk,
            stage=ExposureStage.CONTRACTED,
            amount=Decimal(amount),
            source_type="trade",
            source_id=uuid.uuid4(),
        )


def test_the_dashboard_shows_bands_alerts_and_waiting_requests(
    risk_officer: Any, buyer: Any, seller: Any, foreign_partner: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    set_credit(seller, credit_limit=Decimal("1000000"))
    set_credit(foreign_partner, credit_limit=Decimal("1000000"))
    _book(buyer, "950000")  # HIGH
    _book(foreign_partner, "950000")  # another organization: not counted
    credit_limit_set(actor=risk_officer, partner_id=seller.pk, credit_limit="9000000", reason="Season")

    response = staff_client(risk_officer).get("/admin/risk/creditaccount/dashboard/")

    assert response.status_code == 200
    bands = {band["level"]: band["count"] for band in response.context["bands"]}
    assert (bands["HIGH"], bands["NORMAL"], bands["CRITICAL"]) == (1, 1, 0)
    assert [a.partner_id for a in response.context["alerts"]] == [buyer.pk]
    assert [c.partner_id for c in response.context["pending"]] == [seller.pk]
    assert b"Risk dashboard" in response.content


def test_the_credit_rows_are_scoped_and_show_the_breakdown_and_recommendation(
    risk_officer: Any, buyer: Any, foreign_partner: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"), rating=Decimal("4.8"))
    set_credit(foreign_partner, credit_limit=Decimal("1000000"))
    _book(buyer, "100000")
    client = staff_client(risk_officer)

    listing = client.get("/admin/risk/creditaccount/", {"q": buyer.code})
    assert [row.partner_id for row in listing.context["cl"].result_list] == [buyer.pk]
    assert client.get("/admin/risk/creditaccount/").context["cl"].result_count == 1

    account = CreditAccount.objects.get(partner_id=buyer.pk)
    page = client.get(f"/admin/risk/creditaccount/{account.pk}/change/")
    assert page.status_code == 200
    assert b"CONTRACTED</a>: 100000.00" in page.content
    assert b"1200000.00" in page.content  # recommended: x1.2 (rating 4.8, performance 100)
    foreign = CreditAccount.objects.get(partner_id=foreign_partner.pk)
    assert client.get(f"/admin/risk/creditaccount/{foreign.pk}/change/").status_code == 302  # not found: redirect


def test_set_limit_from_the_admin(risk_officer: Any, buyer: Any) -> None:
    account = set_credit(buyer, credit_limit=Decimal("1000000"))

    response = staff_client(risk_officer).post(
        f"/admin/risk/creditaccount/{account.pk}/actions/set_limit/",
        {"credit_limit": "1500000", "reason": "Good payer", "_confirm": "1"},
        follow=True,
    )

    assert any("Limit change recorded" in m for m in _messages(response))
    assert CreditAccount.objects.get(pk=account.pk).credit_limit == Decimal("1500000.00")


def test_approve_from_the_admin_refuses_the_requester_and_accepts_a_second_officer(
    risk_officer: Any, second_risk_officer: Any, buyer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="9000000", reason="Season")
    url = f"/admin/risk/limitchange/{change.pk}/actions/approve/"

    own = staff_client(risk_officer).post(url, {"note": "", "_confirm": "1"}, follow=True)
    assert own.status_code == 200  # the form again, the refusal on it
    assert "maker_checker_violation" in own.content.decode()
    assert LimitChange.objects.get(pk=change.pk).status == "PENDING"

    page = staff_client(second_risk_officer).get(f"/admin/risk/limitchange/{change.pk}/change/")
    assert b"actions/approve/" in page.content
    approved = staff_client(second_risk_officer).post(url, {"note": "ok", "_confirm": "1"}, follow=True)

    assert any("approved" in m for m in _messages(approved))
    assert LimitChange.objects.get(pk=change.pk).status == "APPLIED"
    assert CreditAccount.objects.get(partner_id=buyer.pk).credit_limit == Decimal("9000000.00")


def test_another_organizations_officer_cannot_decide(
    risk_officer: Any, other_org_risk_officer: Any, buyer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="9000000", reason="Season")

    response = staff_client(other_org_risk_officer).post(
        f"/admin/risk/limitchange/{change.pk}/actions/reject/", {"note": "", "_confirm": "1"}, follow=True
    )

    assert any("limit_change_not_found" in m for m in _messages(response))
    assert LimitChange.objects.get(pk=change.pk).status == "PENDING"


def test_the_ledger_assessments_and_alerts_screens_open(risk_officer: Any, buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    _book(buyer, "600000")
    client = staff_client(risk_officer)

    for url in ("/admin/risk/exposureentry/?open=yes", "/admin/risk/assessment/", "/admin/risk/exposurealert/"):
        assert client.get(url).status_code == 200

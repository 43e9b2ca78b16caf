"""A real browser works the onboarding queue: the KYC officer verifies the documents of a
submitted application in the admin, a desk manager approves it, and the new partner's owner then
signs in through the OTP API and reads its partner."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from apps.accounts.models import SmsMessage
from apps.accounts.tests.factories import DEFAULT_PASSWORD
from apps.events.models import OutboxEvent
from apps.partners.models import ApplicationState, BusinessPartner, DocumentStatus, OnboardingApplication

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_login(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _admin_logout(page: Any, base: str) -> None:
    page.click("#logout-form button")
    page.wait_for_url(re.compile(r".*/admin/logout/"))


def test_officer_verifies_manager_approves_and_the_owner_reads_its_partner(
    live_server: Any,
    browser_page: Any,
    submitted_application: OnboardingApplication,
    kyc_officer: Any,
    desk_manager: Any,
    applicant: Any,
) -> None:
    base = live_server.url
    page = browser_page
    change_url = f"{base}/admin/partners/onboardingapplication/{submitted_application.pk}/change/"
    on_change_page = re.compile(re.escape(change_url) + r"(\?.*)?$")

    # The KYC officer finds the application in the queue and verifies its three documents.
    _admin_login(page, base, kyc_officer.email)
    page.goto(f"{base}/admin/partners/onboardingapplication/?state__exact=SUBMITTED")
    page.click(f"text={submitted_application.legal_name}")
    page.wait_for_url(on_change_page)
    for _ in range(3):  # one by one, inline, each beside its preview
        page.click('#documents-review tr.bo-current button[value="verify"]')
        page.wait_for_url(on_change_page)
        assert "verified." in page.inner_text("ul.messagelist")
    assert set(submitted_application.documents.values_list("status", flat=True)) == {DocumentStatus.VERIFIED}
    _admin_logout(page, base)

    # The desk manager approves it with a credit limit.
    _admin_login(page, base, desk_manager.email)
    page.goto(change_url)
    page.click("text=Approve")
    page.fill("input[name=credit_limit]", "750000")
    page.fill("textarea[name=note]", "Documents in order")
    page.click("input[name=_confirm]")
    page.wait_for_url(on_change_page)
    assert "Application approved; the partner is created." in page.inner_text("ul.messagelist")

    submitted_application.refresh_from_db()
    assert submitted_application.state == ApplicationState.APPROVED
    assert submitted_application.approved_by_id == desk_manager.pk
    partner = BusinessPartner.objects.get()
    assert (partner.code, str(partner.credit_limit)) == ("BP-000001", "750000.00")
    assert (
        OutboxEvent.objects.filter(
            type="partners.application.approved", aggregate_id=str(submitted_application.pk)
        ).count()
        == 1
    )

    # The applicant, now the owner, signs in by OTP and reads its partner.
    with httpx.Client(base_url=base) as api:
        assert api.post("/api/v1/auth/otp/request", json={"mobile": applicant.mobile}).status_code == 202
        code = re.search(r"\b(\d{6})\b", SmsMessage.objects.filter(to=applicant.mobile).latest("created_at").body)
        assert code is not None
        verified = api.post("/api/v1/auth/otp/verify", json={"mobile": applicant.mobile, "code": code.group(1)})
        assert verified.status_code == 200
        token = verified.json()["access"]
        response = api.get(f"/api/v1/partners/{partner.pk}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["legal_name"], body["status"], body["kyc_status"]) == (
        "BP-000001",
        submitted_application.legal_name,
        "ACTIVE",
        "VERIFIED",
    )

"""The back office in a real browser (Chromium, 1400 px): the KYC officer's queue -> documents
reviewed inline -> the approver approves from their queue -> the partner page; the desk
manager's queue -> two postings approved in bulk -> the desk board shows them without a reload;
each role's home shows the counts the database holds."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.accounts.tests.factories import DEFAULT_PASSWORD
from apps.backoffice.queues import work_queues
from apps.events.relay import relay_batch
from apps.partners.models import ApplicationState, BusinessPartner, DocumentStatus
from apps.partners.services.assignment import application_assign
from apps.tradedesk.models import Availability, AvailabilityStatus
from apps.tradedesk.services import availabilities as posting_services
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

# `BACKOFFICE_SCREENSHOTS=1` refreshes the README's screenshots from this run.
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots" if os.environ.get("BACKOFFICE_SCREENSHOTS") else None


def _screenshot(page: Any, name: str) -> None:
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _login(page: Any, base: str, user: Any) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _logout(page: Any) -> None:
    page.click("#logout-form button")
    page.wait_for_url(re.compile(r".*/admin/logout/"))


def _queue_count(page: Any, key: str) -> int:
    return int(page.inner_text(f'[data-queue="{key}"] .bo-count'))


def _home_counts(page: Any) -> dict[str, int]:
    counts = {}
    for item in page.query_selector_all(".bo-queues [data-queue]"):
        counts[item.get_attribute("data-queue")] = int(item.query_selector(".bo-count").inner_text())
    return counts


def test_kyc_officer_reviews_inline_and_the_approver_approves_from_the_queue(
    asgi_server: str,
    browser_page: Any,
    submitted_application: Any,
    kyc_officer: Any,
    desk_manager: Any,
    organization_admin: Any,
) -> None:
    base, page = asgi_server, browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    application_assign(actor=organization_admin, application_id=submitted_application.pk, officer_id=kyc_officer.pk)

    _login(page, base, kyc_officer)
    assert _home_counts(page) == {q.key: q.count for q in work_queues(kyc_officer)}
    assert _queue_count(page, "applications_to_review") == 1
    page.click('[data-queue="applications_to_review"] a')
    page.click(f"text={submitted_application.legal_name}")
    page.wait_for_selector("#documents-review")
    assert page.query_selector("#documents-review iframe.bo-preview") is not None
    # A rejection without a reason is refused in place; nothing changes.
    page.click('#documents-review tr.bo-current button[value="reject"]')
    page.wait_for_selector("#documents-review .errorlist")
    assert set(submitted_application.documents.values_list("status", flat=True)) == {DocumentStatus.PENDING}
    page.click("#verify-all")
    page.wait_for_selector("ul.messagelist")
    assert "Verified: " in page.inner_text("ul.messagelist")
    assert set(submitted_application.documents.values_list("status", flat=True)) == {DocumentStatus.VERIFIED}
    _logout(page)

    _login(page, base, desk_manager)
    assert _queue_count(page, "applications_to_approve") == 1
    page.click('[data-queue="applications_to_approve"] a')
    page.click(f"text={submitted_application.legal_name}")
    page.click("a:has-text('Approve')")
    page.fill("input[name=credit_limit]", "750000")
    page.click("input[name=_confirm]")
    page.wait_for_selector("ul.messagelist")
    assert "Application approved; the partner is created." in page.inner_text("ul.messagelist")
    submitted_application.refresh_from_db()
    assert submitted_application.state == ApplicationState.APPROVED
    # The decided application offers no decision any more, and links to its partner.
    assert page.query_selector("a:has-text('Approve')") is None
    partner = BusinessPartner.objects.get()
    page.click(f".field-partner a:has-text('{partner.code}')")
    page.wait_for_url(re.compile(rf".*/admin/partners/businesspartner/{partner.pk}/change/"))
    assert "Active" in page.inner_text(".field-status_badge")
    # An active partner is never offered Reactivate; the desk manager may not change its status
    # at all, and the page says why.
    assert "REACTIVATE" not in page.inner_text(".object-tools").upper()
    assert "needs the partners.change_partner_status capability" in page.inner_text("#who-may-act")


def _pending(seller: Any, cotton: Any) -> Availability:
    availability = posting_services.availability_create(
        actor=seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton)
    )
    return posting_services.availability_submit(actor=seller.owner, availability_id=availability.pk)


def test_desk_manager_approves_two_postings_in_bulk_and_the_board_shows_them_live(
    asgi_server: str, browser_page: Any, seller: Any, cotton: Any, financial_year: Any, desk_manager: Any
) -> None:
    base, page = asgi_server, browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    first, second = _pending(seller, cotton), _pending(seller, cotton)
    relay_batch()  # the submissions' events, before the board opens

    _login(page, base, desk_manager)
    assert _home_counts(page) == {q.key: q.count for q in work_queues(desk_manager)}
    assert _queue_count(page, "postings_to_approve") == 2
    _screenshot(page, "dashboard.png")

    board = page.context.new_page()
    board.set_viewport_size({"width": 1400, "height": 900})
    board.goto(f"{base}/admin/backoffice/board/")
    board.wait_for_selector("#board-live.bo-ok")  # the session's websocket is open
    assert board.query_selector(f'#board-approved tr[data-number="{first.number}"]') is None

    page.click('[data-queue="postings_to_approve"] a')
    page.check(f'input[name=_selected_action][value="{first.pk}"]')
    page.check(f'input[name=_selected_action][value="{second.pk}"]')
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    assert "2 approved: " in page.inner_text("ul.messagelist")
    assert set(Availability.objects.values_list("status", flat=True)) == {AvailabilityStatus.ACTIVE}

    while relay_batch().claimed:  # what the worker does under `make run`
        pass
    board.wait_for_selector(f'#board-approved tr[data-number="{first.number}"]', timeout=15_000)
    board.wait_for_selector(f'#board-approved tr[data-number="{second.number}"]')
    assert board.inner_text('[data-queue="postings_to_approve"] .bo-count') == "0"
    _screenshot(board, "board.png")

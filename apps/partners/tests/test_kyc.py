"""KYC after approval: renewal with freshly verified documents, reminders at 90/60/30/7 days
(each once, also when the sweep runs twice at once) and expiry (once)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner, DocumentStatus, KycReminder, KycStatus, PartnerDocument
from apps.partners.services.documents import partner_document_upload, partner_document_verify
from apps.partners.services.kyc import kyc_renew, kyc_sweep, reminder_threshold
from apps.partners.tests.factories import INDIAN_TRADER_DOCUMENTS, pdf_upload

EXPIRING = "partners.kyc.expiring"
EXPIRED = "partners.kyc.expired"
RENEWED = "partners.kyc.renewed"
DAY = datetime.timedelta(days=1)


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def _fresh_documents(partner: BusinessPartner, owner: Any, officer: Any, types: list[str] | None = None) -> None:
    for doc_type in INDIAN_TRADER_DOCUMENTS if types is None else types:
        document = partner_document_upload(
            actor=owner, partner_id=partner.pk, document_type=doc_type, file=pdf_upload()
        )
        partner_document_verify(actor=officer, document_id=document.pk)


def _reminders(partner: BusinessPartner) -> list[tuple[str, int]]:
    return [
        (event.payload["kyc_expires_on"], event.payload["days_before"])
        for event in OutboxEvent.objects.filter(type=EXPIRING, partner_id=partner.pk).order_by("position")
    ]


def test_the_settings_declare_a_year_reminders_and_the_six_hourly_beat_job() -> None:
    assert settings.PARTNERS_KYC_VALIDITY_DAYS == 365
    assert settings.PARTNERS_KYC_REMINDER_DAYS == (90, 60, 30, 7)
    assert settings.PERIODIC_TASKS["partners.kyc_sweep"]["task"] == "apps.partners.tasks.kyc_sweep"
    assert settings.PERIODIC_TASKS["partners.kyc_sweep"]["every_seconds"] == 6 * 3600


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(120, None), (91, None), (90, 90), (61, 90), (60, 60), (45, 60), (30, 30), (8, 30), (7, 7), (0, 7)],
)
def test_the_tightest_threshold_reached_is_the_one_reminded(days_left: int, threshold: int | None) -> None:
    assert reminder_threshold(days_left, (90, 60, 30, 7)) == threshold


# --- renewal -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_verifies_kyc_for_a_year(partner: BusinessPartner) -> None:
    partner.refresh_from_db()

    assert partner.kyc_status == KycStatus.VERIFIED
    assert partner.kyc_verified_at is not None
    assert partner.kyc_expires_on == timezone.localdate() + _days(365)


@pytest.mark.django_db
def test_renewal_with_freshly_verified_documents_extends_kyc_a_year(
    partner: BusinessPartner, owner: Any, kyc_officer: Any
) -> None:
    later = timezone.now() + _days(300)
    with time_machine.travel(later, tick=False):
        _fresh_documents(partner, owner, kyc_officer)

        renewed = kyc_renew(actor=kyc_officer, partner_id=partner.pk)  # the verifier may renew

        today = timezone.localdate()
    partner.refresh_from_db()
    assert partner.kyc_status == KycStatus.VERIFIED
    assert partner.kyc_verified_at == later
    assert partner.kyc_expires_on == today + _days(365) == renewed.kyc_expires_on
    event = OutboxEvent.objects.get(type=RENEWED, partner_id=partner.pk)
    assert event.actor_id == kyc_officer.pk
    assert event.payload == {
        "kyc_expires_on": str(today + _days(365)),
        "previous_kyc_status": "VERIFIED",
        "previous_kyc_expires_on": str(today - _days(300) + _days(365)),
    }


def _assert_not_renewed(partner: BusinessPartner, before: BusinessPartner) -> None:
    partner.refresh_from_db()
    assert (partner.kyc_status, partner.kyc_verified_at, partner.kyc_expires_on) == (
        before.kyc_status,
        before.kyc_verified_at,
        before.kyc_expires_on,
    )
    assert not OutboxEvent.objects.filter(type=RENEWED).exists()


@pytest.mark.django_db
def test_renewal_refuses_the_onboarding_documents_and_lists_what_is_missing(
    partner: BusinessPartner, kyc_officer: Any
) -> None:
    before = BusinessPartner.objects.get(pk=partner.pk)

    with pytest.raises(DomainError) as refused:
        kyc_renew(actor=kyc_officer, partner_id=partner.pk)

    assert (refused.value.status, refused.value.code) == (400, "documents_missing")
    assert refused.value.extra == {"missing": ["GST_CERTIFICATE", "PAN_CARD", "CANCELLED_CHEQUE"]}
    assert [e["detail"] for e in refused.value.errors] == ["GST_CERTIFICATE", "PAN_CARD", "CANCELLED_CHEQUE"]
    _assert_not_renewed(partner, before)


@pytest.mark.django_db
def test_renewal_refuses_pending_and_expired_copies(partner: BusinessPartner, owner: Any, kyc_officer: Any) -> None:
    _fresh_documents(partner, owner, kyc_officer, ["GST_CERTIFICATE", "PAN_CARD"])
    PartnerDocument.objects.filter(partner=partner, document_type="PAN_CARD", application__isnull=True).update(
        expires_on=timezone.localdate() - DAY
    )
    partner_document_upload(actor=owner, partner_id=partner.pk, document_type="CANCELLED_CHEQUE", file=pdf_upload())
    before = BusinessPartner.objects.get(pk=partner.pk)

    with pytest.raises(DomainError) as refused:
        kyc_renew(actor=kyc_officer, partner_id=partner.pk)

    assert refused.value.extra == {"missing": ["PAN_CARD", "CANCELLED_CHEQUE"]}
    _assert_not_renewed(partner, before)


@pytest.mark.django_db
def test_renewal_asks_an_importer_for_its_iec_too(partner: BusinessPartner, owner: Any, kyc_officer: Any) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(imports_or_exports=True)
    _fresh_documents(partner, owner, kyc_officer)

    with pytest.raises(DomainError) as refused:
        kyc_renew(actor=kyc_officer, partner_id=partner.pk)

    assert refused.value.extra == {"missing": ["IEC"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("desk_manager", 403, "permission_denied"),
        ("risk_officer", 403, "permission_denied"),
        ("owner", 404, "partner_not_found"),
        ("other_org_staff", 404, "partner_not_found"),
    ],
)
def test_only_staff_with_the_renewal_capability_renew(
    request: Any, partner: BusinessPartner, owner: Any, kyc_officer: Any, who: str, status: int, code: str
) -> None:
    _fresh_documents(partner, owner, kyc_officer)
    before = BusinessPartner.objects.get(pk=partner.pk)

    with pytest.raises(DomainError) as refused:
        kyc_renew(actor=request.getfixturevalue(who), partner_id=partner.pk)

    assert (refused.value.status, refused.value.code) == (status, code)
    _assert_not_renewed(partner, before)


@pytest.mark.django_db
def test_an_expired_kyc_is_renewed(partner: BusinessPartner, owner: Any, kyc_officer: Any, director: Any) -> None:
    expiry = partner.kyc_expires_on
    assert expiry is not None
    kyc_sweep(today=expiry + DAY)
    _fresh_documents(partner, owner, kyc_officer)

    kyc_renew(actor=director, partner_id=partner.pk)

    partner.refresh_from_db()
    assert partner.kyc_status == KycStatus.VERIFIED
    assert OutboxEvent.objects.get(type=RENEWED).payload["previous_kyc_status"] == "EXPIRED"


@pytest.mark.django_db
def test_the_admin_renews_kyc(partner: BusinessPartner, owner: Any, kyc_officer: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(kyc_officer, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/admin/partners/businesspartner/{partner.pk}/actions/renew_kyc/"
    response = client.post(url, {"confirm": "True"}, follow=True)
    assert "(documents_missing)" in response.content.decode()  # the form again, the refusal on it (issue 17)
    _fresh_documents(partner, owner, kyc_officer)

    response = client.post(url, {"confirm": "True"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["KYC renewed."]
    assert OutboxEvent.objects.filter(type=RENEWED, partner_id=partner.pk).count() == 1


# --- the sweep: reminders ------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_reminder_is_sent_once_at_90_60_30_and_7_days(partner: BusinessPartner) -> None:
    expiry = partner.kyc_expires_on
    assert expiry is not None

    for days_left in (120, 91, 90, 90, 89, 61, 60, 60, 45, 31, 30, 29, 8, 7, 7, 3, 0):
        kyc_sweep(today=expiry - _days(days_left))

    assert _reminders(partner) == [(str(expiry), 90), (str(expiry), 60), (str(expiry), 30), (str(expiry), 7)]
    assert sorted(KycReminder.objects.filter(partner=partner).values_list("days_before", flat=True)) == [7, 30, 60, 90]
    event = OutboxEvent.objects.filter(type=EXPIRING).first()
    assert event is not None
    assert (event.organization_id, event.aggregate_id) == (partner.organization_id, str(partner.pk))
    partner.refresh_from_db()
    assert partner.kyc_status == KycStatus.VERIFIED  # still valid on its last day


@pytest.mark.django_db
def test_a_late_first_run_sends_only_the_tightest_reminder_reached(partner: BusinessPartner) -> None:
    expiry = partner.kyc_expires_on
    assert expiry is not None

    result = kyc_sweep(today=expiry - _days(20))

    assert result == {"kyc_expired": 0, "reminders_sent": 1, "documents_expired": 0}
    assert _reminders(partner) == [(str(expiry), 30)]


@pytest.mark.django_db
def test_a_renewal_starts_the_reminders_over(partner: BusinessPartner, owner: Any, kyc_officer: Any) -> None:
    old_expiry = partner.kyc_expires_on
    assert old_expiry is not None
    kyc_sweep(today=old_expiry - _days(90))
    with time_machine.travel(timezone.now() + _days(275), tick=False):
        _fresh_documents(partner, owner, kyc_officer)
        kyc_renew(actor=kyc_officer, partner_id=partner.pk)
    partner.refresh_from_db()
    new_expiry = partner.kyc_expires_on
    assert new_expiry is not None
    assert new_expiry > old_expiry

    kyc_sweep(today=old_expiry - _days(60))  # the old cycle is over: nothing
    kyc_sweep(today=new_expiry - _days(90))

    assert _reminders(partner) == [(str(old_expiry), 90), (str(new_expiry), 90)]


@pytest.mark.django_db
def test_partners_without_verified_kyc_get_no_reminder(partner: BusinessPartner, other_partner: Any) -> None:
    expiry = partner.kyc_expires_on
    assert expiry is not None
    BusinessPartner.objects.filter(pk=partner.pk).update(kyc_status=KycStatus.PENDING)
    BusinessPartner.objects.filter(pk=other_partner.pk).update(kyc_status=KycStatus.EXPIRED, kyc_expires_on=expiry)

    assert kyc_sweep(today=expiry - _days(7))["reminders_sent"] == 0
    assert not KycReminder.objects.exists()


# --- the sweep: expiry ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_kyc_expires_the_day_after_its_expiry_date_once(partner: BusinessPartner, other_partner: Any) -> None:
    expiry = partner.kyc_expires_on
    assert expiry is not None
    BusinessPartner.objects.filter(pk=other_partner.pk).update(kyc_expires_on=expiry + _days(30))

    assert kyc_sweep(today=expiry)["kyc_expired"] == 0
    assert kyc_sweep(today=expiry + DAY)["kyc_expired"] == 1
    assert kyc_sweep(today=expiry + _days(2))["kyc_expired"] == 0

    partner.refresh_from_db()
    other_partner.refresh_from_db()
    assert (partner.kyc_status, other_partner.kyc_status) == (KycStatus.EXPIRED, KycStatus.VERIFIED)
    event = OutboxEvent.objects.get(type=EXPIRED)
    assert (event.partner_id, event.organization_id, event.actor_id) == (partner.pk, partner.organization_id, None)
    assert event.payload == {"kyc_expires_on": str(expiry)}
    history = apps.get_model("partners", "BusinessPartnerEvent").objects.filter(pgh_obj_id=partner.pk)
    assert history.order_by("pgh_id").values_list("kyc_status", flat=True).last() == KycStatus.EXPIRED


@pytest.mark.django_db
def test_a_lapsed_document_expires_and_its_capabilities_go(
    partner: BusinessPartner, owner: Any, kyc_officer: Any
) -> None:
    today = timezone.localdate()
    iec = partner_document_upload(
        actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload(), expires_on=today + _days(10)
    )
    partner_document_verify(actor=kyc_officer, document_id=iec.pk)
    partner.refresh_from_db()
    assert partner.trading_capabilities["import"] is True

    assert kyc_sweep(today=today + _days(10))["documents_expired"] == 0
    assert kyc_sweep(today=today + _days(11))["documents_expired"] == 1
    assert kyc_sweep(today=today + _days(12))["documents_expired"] == 0

    iec.refresh_from_db()
    partner.refresh_from_db()
    assert iec.status == DocumentStatus.EXPIRED
    assert partner.trading_capabilities == {"buy": True, "sell": True, "import": False, "export": False}
    expired = OutboxEvent.objects.get(type="partners.document.expired")
    assert expired.payload["document_id"] == str(iec.pk)
    changed = OutboxEvent.objects.filter(type="partners.partner.capabilities_changed").order_by("position").last()
    assert changed is not None
    assert changed.payload["reason"] == "documents expired"


@pytest.mark.django_db
def test_the_celery_task_runs_the_sweep(partner: BusinessPartner) -> None:
    from apps.partners.tasks import kyc_sweep as task

    BusinessPartner.objects.filter(pk=partner.pk).update(kyc_expires_on=timezone.localdate() + _days(5))

    assert task.apply().get() == {"kyc_expired": 0, "reminders_sent": 1, "documents_expired": 0}
    assert task.name == "apps.partners.tasks.kyc_sweep"
    assert [days for _, days in _reminders(partner)] == [7]


# --- the sweep: twice at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_reminder_and_expiry_once(
    partner: BusinessPartner, other_partner: Any, run_concurrently: Callable[..., Any]
) -> None:
    expiry = partner.kyc_expires_on
    assert expiry is not None
    BusinessPartner.objects.filter(pk=other_partner.pk).update(kyc_expires_on=expiry - _days(91))

    reminders = run_concurrently(lambda: kyc_sweep(today=expiry - _days(90)), times=4)
    expiries = run_concurrently(lambda: kyc_sweep(today=expiry - _days(60)), times=4)

    assert [r.error for r in reminders + expiries] == [None] * 8
    assert sum(r.value["reminders_sent"] for r in reminders) == 1
    assert sum(r.value["kyc_expired"] for r in reminders) == 1  # other_partner lapsed the day before
    assert sum(r.value["reminders_sent"] for r in expiries) == 1
    assert sum(r.value["kyc_expired"] for r in expiries) == 0
    assert _reminders(partner) == [(str(expiry), 90), (str(expiry), 60)]
    assert KycReminder.objects.filter(partner=partner).count() == 2
    assert OutboxEvent.objects.filter(type=EXPIRED, partner_id=other_partner.pk).count() == 1
    other_partner.refresh_from_db()
    assert other_partner.kyc_status == KycStatus.EXPIRED

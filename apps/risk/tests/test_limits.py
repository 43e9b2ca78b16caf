"""Credit limits: set by the back office with a reason, maker-checker above the organization's
threshold, old and new values kept, events; bad input and wrong people refused with nothing
written; a partner's CREDIT_LIMIT amendment becomes a change waiting for a risk officer."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.core.errors import DomainError, PermissionDenied
from apps.events.envelope import EventEnvelope
from apps.events.models import OutboxEvent
from apps.events.registry import handlers_for
from apps.partners.services import amendments as partner_services
from apps.partners.tests import factories as partner_factories
from apps.risk.errors import (
    LimitChangeAlreadyPending,
    LimitChangeInvalid,
    LimitChangeNotFound,
    LimitChangeNotPending,
    LimitMakerChecker,
    LimitUnchanged,
    PartnerNotFound,
)
from apps.risk.models import CreditAccount, ExposureStage, LimitChange, RiskSettings
from apps.risk.services.exposure import exposure_book
from apps.risk.services.limits import credit_limit_approve, credit_limit_reject, credit_limit_set
from apps.risk.tests.factories import set_credit

pytestmark = pytest.mark.django_db


def _limit(partner: Any) -> Decimal:
    return CreditAccount.objects.get(partner_id=partner.pk).credit_limit


def _events(status: str | None = None) -> list[dict[str, Any]]:
    rows = OutboxEvent.objects.filter(type="risk.credit_limit.changed").order_by("position")
    return [e.payload for e in rows if status is None or e.payload["status"] == status]


def test_a_change_within_the_threshold_applies_at_once_and_keeps_old_and_new(buyer: Any, risk_officer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="1500000", reason="Good payer")

    assert (change.status, change.old_limit, change.new_limit, change.reason) == (
        "APPLIED",
        Decimal("1000000.00"),
        Decimal("1500000.00"),
        "Good payer",
    )
    assert (change.requested_by_id, change.decided_by_id) == (risk_officer.pk, risk_officer.pk)
    assert _limit(buyer) == Decimal("1500000.00")
    assert _events() == [
        {
            "limit_change_id": str(change.pk),
            "partner_id": str(buyer.pk),
            "status": "APPLIED",
            "source": "BACK_OFFICE",
            "old_limit": "1000000.00",
            "new_limit": "1500000.00",
            "reason": "Good payer",
        }
    ]


def test_a_decrease_applies_at_once_whatever_its_size(buyer: Any, risk_officer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("90000000"))

    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="100", reason="Defaulted")

    assert change.status == "APPLIED"
    assert _limit(buyer) == Decimal("100.00")


def test_an_increase_above_the_threshold_waits_for_a_second_person(
    buyer: Any, risk_officer: Any, second_risk_officer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))  # threshold: 1,000,000 by default

    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="2000000.01", reason="Season")

    assert change.status == "PENDING"
    assert _limit(buyer) == Decimal("1000000.00")
    with pytest.raises(LimitMakerChecker):
        credit_limit_approve(actor=risk_officer, change_id=change.pk)
    assert LimitChange.objects.get(pk=change.pk).status == "PENDING"

    approved = credit_limit_approve(actor=second_risk_officer, change_id=change.pk, note="Checked the books")

    assert (approved.status, approved.decided_by_id, approved.decision_note) == (
        "APPLIED",
        second_risk_officer.pk,
        "Checked the books",
    )
    assert _limit(buyer) == Decimal("2000000.01")
    assert [e["status"] for e in _events()] == ["PENDING", "APPLIED"]
    with pytest.raises(LimitChangeNotPending):
        credit_limit_approve(actor=second_risk_officer, change_id=change.pk)


def test_the_threshold_is_organization_data(buyer: Any, risk_officer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    RiskSettings.objects.filter(organization_id=buyer.organization_id).update(
        risk_limit_approval_threshold=Decimal("100")
    )

    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="1000100.01", reason="x")

    assert change.status == "PENDING"


def test_a_rejected_request_changes_no_limit(buyer: Any, risk_officer: Any, org_admin: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="9000000", reason="Season")

    rejected = credit_limit_reject(actor=org_admin, change_id=change.pk, note="Not this season")

    assert (rejected.status, rejected.decided_by_id) == ("REJECTED", org_admin.pk)
    assert _limit(buyer) == Decimal("1000000.00")
    assert [e["status"] for e in _events()] == ["PENDING", "REJECTED"]


def test_a_second_change_while_one_waits_is_refused(buyer: Any, risk_officer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="9000000", reason="Season")

    with pytest.raises(LimitChangeAlreadyPending):
        credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="500000", reason="Lower")

    assert LimitChange.objects.count() == 1


def test_setting_the_same_limit_is_refused(buyer: Any, risk_officer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    with pytest.raises(LimitUnchanged):
        credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="1000000.00", reason="Same")


@pytest.mark.parametrize(
    ("credit_limit", "reason", "codes"),
    [
        ("-1", "Because", {"credit_limit": "limit_invalid"}),
        ("lots", "Because", {"credit_limit": "limit_invalid"}),
        ("NaN", "Because", {"credit_limit": "limit_invalid"}),
        ("100.001", "Because", {"credit_limit": "limit_invalid"}),
        ("100", "", {"reason": "reason_required"}),
        ("100", "   ", {"reason": "reason_required"}),
        ("-5", "", {"credit_limit": "limit_invalid", "reason": "reason_required"}),
    ],
)
def test_bad_input_is_refused_with_every_field_error_and_nothing_written(
    buyer: Any, risk_officer: Any, credit_limit: str, reason: str, codes: dict[str, str]
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    with pytest.raises(LimitChangeInvalid) as refused:
        credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit=credit_limit, reason=reason)

    assert {e["attr"]: e["code"] for e in refused.value.errors} == codes
    assert refused.value.status == 400
    assert LimitChange.objects.count() == 0
    assert _limit(buyer) == Decimal("1000000.00")
    assert _events() == []


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("owner", PermissionDenied, "permission_denied"),
        ("other_org_risk_officer", PartnerNotFound, "partner_not_found"),
        ("desk_manager", PermissionDenied, "permission_denied"),
        ("foreign_owner", PartnerNotFound, "partner_not_found"),
    ],
)
def test_only_the_organizations_risk_desk_sets_limits(
    request: Any, buyer: Any, who: str, error: type[DomainError], code: str
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    actor = {
        "owner": lambda: buyer.owner,
        "foreign_owner": lambda: request.getfixturevalue("foreign_partner").owner,
    }.get(who, lambda: request.getfixturevalue(who))()

    with pytest.raises(error) as refused:
        credit_limit_set(actor=actor, partner_id=buyer.pk, credit_limit="1500000", reason="Please")

    assert refused.value.code == code
    assert LimitChange.objects.count() == 0
    assert _limit(buyer) == Decimal("1000000.00")


def test_an_unknown_partner_is_refused(risk_officer: Any) -> None:
    with pytest.raises(PartnerNotFound):
        credit_limit_set(actor=risk_officer, partner_id=uuid.uuid4(), credit_limit="1", reason="x")
    assert CreditAccount.objects.count() == 0


def test_approval_by_another_organizations_officer_is_refused(
    buyer: Any, risk_officer: Any, other_org_risk_officer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    change = credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="9000000", reason="Season")

    with pytest.raises(LimitChangeNotFound):
        credit_limit_approve(actor=other_org_risk_officer, change_id=change.pk)
    with pytest.raises(LimitChangeNotFound):
        credit_limit_reject(actor=other_org_risk_officer, change_id=change.pk)

    assert LimitChange.objects.get(pk=change.pk).status == "PENDING"


def test_a_lower_limit_raises_the_utilisation_level_and_alerts(buyer: Any, risk_officer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    with transaction.atomic():
        exposure_book(
            partner_id=buyer.pk,
            stage=ExposureStage.CONTRACTED,
            amount=Decimal("400000"),
            source_type="trade",
            source_id=uuid.uuid4(),
        )

    credit_limit_set(actor=risk_officer, partner_id=buyer.pk, credit_limit="400000", reason="Cut")

    assert CreditAccount.objects.get(partner_id=buyer.pk).level == "CRITICAL"
    alert = OutboxEvent.objects.get(type="risk.exposure.alert")
    assert (alert.payload["from_level"], alert.payload["to_level"]) == ("NORMAL", "CRITICAL")


def _run_handlers(event_type: str) -> None:
    for row in OutboxEvent.objects.filter(type=event_type):
        envelope = EventEnvelope.from_row(row)
        for handler in handlers_for(event_type):
            if handler.name.startswith("risk."):
                with transaction.atomic():
                    handler.fn(envelope)


def test_an_approved_partner_gets_a_credit_row_with_its_onboarding_limit(organization: Any) -> None:
    partner = partner_factories.approved_partner(organization)
    CreditAccount.objects.filter(partner_id=partner.pk).delete()

    _run_handlers("partners.application.approved")
    _run_handlers("partners.application.approved")  # at least once: a second delivery changes nothing

    assert CreditAccount.objects.filter(partner_id=partner.pk).count() == 1
    assert _limit(partner) == Decimal("1000000.00")


def test_a_partners_credit_limit_amendment_waits_for_a_risk_officer(
    buyer: Any, desk_manager: Any, risk_officer: Any
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    amendment = partner_services.amendment_request(
        actor=buyer.owner,
        partner_id=buyer.pk,
        kind="CREDIT_LIMIT",
        new_values={"credit_limit": "1200000.00"},
        reason="More cotton this season",
    )
    partner_services.amendment_approve(actor=desk_manager, amendment_id=amendment.pk)

    _run_handlers("partners.amendment.approved")
    _run_handlers("partners.amendment.approved")

    change = LimitChange.objects.get()
    assert (change.status, change.source, change.amendment_id, change.new_limit, change.requested_by_id) == (
        "PENDING",
        "AMENDMENT",
        amendment.pk,
        Decimal("1200000.00"),
        desk_manager.pk,
    )
    assert _limit(buyer) == Decimal("1000000.00")
    credit_limit_approve(actor=risk_officer, change_id=change.pk)
    assert _limit(buyer) == Decimal("1200000.00")

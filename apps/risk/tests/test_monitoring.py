"""Exposure monitoring: the beat sweep (stale weights, stale levels: one alert per crossing) and
the risk desk's live topic."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.events.envelope import EventEnvelope
from apps.events.models import OutboxEvent
from apps.realtime.fanout import messages_for
from apps.realtime.topics import topic_permitted
from apps.risk.models import CreditAccount, ExposureStage, RiskSettings
from apps.risk.realtime import risk_desk_topic
from apps.risk.services.exposure import exposure_book
from apps.risk.tasks import exposure_sweep
from apps.risk.tests.factories import ledger_disagreements, set_credit

pytestmark = pytest.mark.django_db


def _book(partner: Any, amount: str, stage: str) -> None:
    with transaction.atomic():
        exposure_book(
            partner_id=partner.pk,
            stage=stage,
            amount=Decimal(amount),
            source_type="negotiation",
            source_id=uuid.uuid4(),
        )


def _alerts() -> list[tuple[str, str]]:
    rows = OutboxEvent.objects.filter(type="risk.exposure.alert").order_by("position")
    return [(e.payload["from_level"], e.payload["to_level"]) for e in rows]


def test_the_sweep_reweighs_exposure_after_a_weight_change_and_alerts_once(buyer: Any, seller: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    set_credit(seller, credit_limit=Decimal("1000000"))
    _book(buyer, "1000000", ExposureStage.NEGOTIATING)  # 250000 at 0.25: 25%, NORMAL
    RiskSettings.objects.filter(organization_id=buyer.organization_id).update(weight_negotiating=Decimal("0.8"))

    assert exposure_sweep() == {"alerts": 1}
    assert exposure_sweep() == {"alerts": 0}

    account = CreditAccount.objects.get(partner_id=buyer.pk)
    assert (account.exposure, account.level) == (Decimal("800000.00"), "MEDIUM")
    assert _alerts() == [("NORMAL", "MEDIUM")]
    assert ledger_disagreements() == []


def test_the_sweep_fixes_a_level_that_disagrees_with_exposure_and_limit(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    _book(buyer, "950000", ExposureStage.CONTRACTED)
    CreditAccount.objects.filter(partner_id=buyer.pk).update(level="NORMAL")  # stale (e.g. restored backup)

    assert exposure_sweep() == {"alerts": 1}

    assert CreditAccount.objects.get(partner_id=buyer.pk).level == "HIGH"
    assert _alerts() == [("NORMAL", "HIGH"), ("NORMAL", "HIGH")]


def test_the_organizations_risk_officers_may_follow_its_risk_desk(
    risk_officer: Any, desk_manager: Any, other_org_risk_officer: Any, buyer: Any, organization: Any
) -> None:
    topic = risk_desk_topic(organization.pk)

    assert topic_permitted(risk_officer, topic) is True
    assert topic_permitted(desk_manager, topic) is True  # reads exposure (risk.view_creditaccount)
    assert topic_permitted(other_org_risk_officer, topic) is False
    assert topic_permitted(buyer.owner, topic) is False


def test_alerts_reach_the_risk_desk_the_organizations_staff_and_the_partner(buyer: Any, organization: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    _book(buyer, "2000000", ExposureStage.NEGOTIATING)  # 50%: LOW
    event = OutboxEvent.objects.get(type="risk.exposure.alert")

    messages = messages_for(EventEnvelope.from_row(event))

    assert sorted(group for group, _ in messages) == sorted(
        [f"org.{organization.pk}", f"partner.{buyer.pk}", f"riskdesk.{organization.pk}"]
    )
    frame = dict(messages)[f"riskdesk.{organization.pk}"]
    assert (frame["event"]["type"], frame["event"]["payload"]["to_level"]) == ("risk.exposure.alert", "LOW")

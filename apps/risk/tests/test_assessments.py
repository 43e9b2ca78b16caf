"""Buyer and seller assessments: the score from 100 down, PASS/WARN/FAIL, the factors' codes,
the recorded row and its event, and nothing written with record=False."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner
from apps.risk.errors import PartnerNotFound
from apps.risk.models import Assessment, ExposureStage
from apps.risk.services.assessments import AssessmentContext, assess_buyer, assess_seller
from apps.risk.services.exposure import exposure_book
from apps.risk.tests.factories import set_credit

pytestmark = pytest.mark.django_db

NO_CONTEXT = AssessmentContext()


def _codes(assessment: Any) -> list[str]:
    return [f["code"] for f in assessment.factors]


def test_a_healthy_buyer_passes_with_100(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    assessment = assess_buyer(partner_id=buyer.pk, amount=Decimal("500000"), context=NO_CONTEXT)

    assert (assessment.result, assessment.score, assessment.factors) == ("PASS", 100, [])


def test_exposure_over_the_limit_and_no_headroom_fail(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    with transaction.atomic():
        exposure_book(
            partner_id=buyer.pk,
            stage="CONTRACTED",
            amount=Decimal("700000"),
            source_type="trade",
            source_id=uuid.uuid4(),
        )

    assessment = assess_buyer(partner_id=buyer.pk, amount=Decimal("400000"), context=NO_CONTEXT)

    assert (assessment.result, assessment.score) == ("FAIL", 50)
    assert [(f["code"], f["points"]) for f in assessment.factors] == [
        ("exposure_over_limit", -35),
        ("low_headroom", -15),
    ]


def test_headroom_under_a_fifth_of_the_value_costs_15(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    # 900000 leaves 100000 of headroom: under 20% of 900000 (180000).
    assessment = assess_buyer(partner_id=buyer.pk, amount=Decimal("900000"), context=NO_CONTEXT)

    assert (assessment.result, assessment.score, _codes(assessment)) == ("PASS", 85, ["low_headroom"])


@pytest.mark.parametrize(
    ("rating", "performance", "score", "result", "codes"),
    [
        ("4.0", "75", 100, "PASS", []),
        ("3.9", "100", 90, "PASS", ["rating_below_par"]),
        ("2.9", "100", 75, "WARN", ["rating_low"]),
        ("4.5", "74.99", 90, "PASS", ["payment_performance_weak"]),
        ("4.5", "49", 75, "WARN", ["payment_performance_poor"]),
        ("3.5", "60", 80, "PASS", ["rating_below_par", "payment_performance_weak"]),
        ("2.5", "40", 50, "FAIL", ["rating_low", "payment_performance_poor"]),
    ],
)
def test_rating_and_payment_performance_cost_points(
    buyer: Any, rating: str, performance: str, score: int, result: str, codes: list[str]
) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"), rating=Decimal(rating), payment_performance=Decimal(performance))

    assessment = assess_buyer(partner_id=buyer.pk, amount=Decimal("100000"), context=NO_CONTEXT)

    assert (assessment.score, assessment.result, _codes(assessment)) == (score, result, codes)


def test_a_seller_is_scored_on_delivery_performance_not_payment(seller: Any) -> None:
    set_credit(
        seller,
        credit_limit=Decimal("1000000"),
        payment_performance=Decimal("10"),
        delivery_performance=Decimal("70"),
    )

    assessment = assess_seller(partner_id=seller.pk, amount=Decimal("100000"), context=NO_CONTEXT)

    assert (assessment.score, assessment.result, _codes(assessment)) == (90, "PASS", ["delivery_performance_weak"])
    assert assessment.side == "SELLER"


def test_a_posting_is_weighed_at_the_posted_stage(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    assessment = assess_buyer(
        partner_id=buyer.pk, amount=Decimal("5000000"), context=NO_CONTEXT, stage=ExposureStage.POSTED
    )

    assert (assessment.result, assessment.score) == ("PASS", 100)
    assert assessment.inputs["weighted_amount"] == "0.00"


def test_a_recorded_assessment_is_stored_and_emitted(buyer: Any, seller: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"), rating=Decimal("3.5"))
    source = uuid.uuid4()
    context = AssessmentContext(source_type="negotiation", source_id=source, counterparty_id=seller.pk)

    assessment = assess_buyer(partner_id=buyer.pk, amount=Decimal("100000"), context=context)

    stored = Assessment.objects.get()
    assert stored.pk == assessment.pk
    assert (stored.partner_id, stored.counterparty_id, stored.source_type, stored.source_id) == (
        buyer.pk,
        seller.pk,
        "negotiation",
        source,
    )
    assert (stored.result, stored.score, stored.rules_version) == ("PASS", 90, "2026-12.1")
    assert stored.inputs["credit_limit"] == "1000000.00"
    event = OutboxEvent.objects.get(type="risk.assessment.recorded")
    assert event.payload["assessment_id"] == str(stored.pk)
    assert event.payload["result"] == "PASS"
    assert event.payload["codes"] == ["rating_below_par"]
    assert event.partner_id == buyer.pk


def test_party_links_with_the_counterparty_decide_the_result(buyer: Any, seller: Any) -> None:
    BusinessPartner.objects.filter(pk=seller.pk).update(pan=buyer.pan)

    assessment = assess_buyer(
        partner_id=buyer.pk, amount=Decimal("1000"), context=AssessmentContext(counterparty_id=seller.pk)
    )

    assert (assessment.result, assessment.score) == ("FAIL", 100)
    assert assessment.factors == [{"code": "same_pan", "detail": "Both partners have the same PAN.", "points": 0}]


def test_record_false_writes_nothing(buyer: Any, seller: Any, django_assert_num_queries: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    with django_assert_num_queries(4):  # credit row, settings, the two partners, free-mail domains
        assessment = assess_buyer(
            partner_id=buyer.pk,
            amount=Decimal("100000"),
            context=AssessmentContext(counterparty_id=seller.pk),
            record=False,
        )

    assert assessment.result == "PASS"
    assert Assessment.objects.count() == 0
    assert not OutboxEvent.objects.filter(type="risk.assessment.recorded").exists()


def test_an_unknown_partner_is_refused(db: Any) -> None:
    with pytest.raises(PartnerNotFound):
        assess_buyer(partner_id=uuid.uuid4(), amount=Decimal("1"), context=NO_CONTEXT)

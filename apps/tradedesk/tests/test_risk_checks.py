"""Risk at posting time (SPEC section 11): requirement publish refuses a blocked buyer (409
credit_blocked) and a failed assessment (403 risk_failed with the factors), records a WARN and
books the requirement's value as POSTED exposure; availability submit assesses the seller."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.core.errors import DomainError
from apps.events.envelope import EventEnvelope
from apps.events.models import OutboxEvent
from apps.events.registry import handlers_for
from apps.risk.models import Assessment, CreditAccount, ExposureEntry
from apps.risk.services.exposure import exposure_book
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement, RequirementStatus
from apps.tradedesk.services import availabilities, requirements
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db


def _credit(partner: Any, **fields: Any) -> None:
    CreditAccount.objects.get_or_create(partner_id=partner.pk, defaults={"organization_id": partner.organization_id})
    CreditAccount.objects.filter(partner_id=partner.pk).update(**fields)


def _draft_requirement(buyer: Any, cotton: Any) -> Requirement:
    return requirements.requirement_create(
        actor=buyer.owner, partner_id=buyer.pk, fields=factories.requirement_fields(cotton)
    )


def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_publishing_books_the_requirements_value_as_posted_exposure_and_records_the_check(
    buyer: Any, cotton: Any, financial_year: Any
) -> None:
    requirement = _draft_requirement(buyer, cotton)

    requirements.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    requirement.refresh_from_db()
    value = (requirement.max_kg * requirement.max_price_per_kg).quantize(Decimal("0.01"))
    entry = ExposureEntry.objects.get(source_type="requirement", source_id=requirement.pk)
    assert (entry.partner_id, entry.stage, entry.amount) == (buyer.pk, "POSTED", value)
    account = CreditAccount.objects.get(partner_id=buyer.pk)
    assert (account.posted_amount, account.exposure) == (value, Decimal("0.00"))  # POSTED weighs 0
    assessment = Assessment.objects.get(source_type="requirement", source_id=requirement.pk)
    assert (assessment.side, assessment.result, assessment.stage) == ("BUYER", "PASS", "POSTED")


def test_a_warn_is_recorded_and_the_requirement_published(buyer: Any, cotton: Any, financial_year: Any) -> None:
    _credit(buyer, credit_limit=Decimal("1000000"), rating=Decimal("2.5"))  # -25: 75, WARN
    requirement = _draft_requirement(buyer, cotton)

    requirements.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    assert Requirement.objects.get(pk=requirement.pk).status == RequirementStatus.ACTIVE
    assessment = Assessment.objects.get(source_id=requirement.pk)
    assert (assessment.result, assessment.score, [f["code"] for f in assessment.factors]) == (
        "WARN",
        75,
        ["rating_low"],
    )
    assert OutboxEvent.objects.filter(type="risk.assessment.recorded").count() == 1


def test_a_failed_check_refuses_to_publish_with_the_factors_and_writes_nothing(
    buyer: Any, cotton: Any, financial_year: Any
) -> None:
    _credit(buyer, credit_limit=Decimal("1000000"), rating=Decimal("2.5"), payment_performance=Decimal("40"))
    requirement = _draft_requirement(buyer, cotton)
    events_before = OutboxEvent.objects.count()

    error = _refused(lambda: requirements.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk))

    assert (error.status, error.code) == (403, "risk_failed")
    assert error.extra["score"] == 50
    assert [f["code"] for f in error.extra["factors"]] == ["rating_low", "payment_performance_poor"]
    requirement.refresh_from_db()
    assert (requirement.status, requirement.number) == (RequirementStatus.DRAFT, "")
    assert Assessment.objects.count() == 0
    assert ExposureEntry.objects.count() == 0
    assert OutboxEvent.objects.count() == events_before


def test_a_buyer_at_critical_utilisation_may_not_publish(buyer: Any, cotton: Any, financial_year: Any) -> None:
    _credit(buyer, credit_limit=Decimal("1000000"))
    with transaction.atomic():
        exposure_book(
            partner_id=buyer.pk,
            stage="CONTRACTED",
            amount=Decimal("1000000"),
            source_type="trade",
            source_id=uuid.uuid4(),
        )
    requirement = _draft_requirement(buyer, cotton)

    error = _refused(lambda: requirements.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk))

    assert (error.status, error.code) == (409, "credit_blocked")
    assert Requirement.objects.get(pk=requirement.pk).status == RequirementStatus.DRAFT
    assert not ExposureEntry.objects.filter(source_type="requirement").exists()


def test_cancelling_releases_the_requirements_exposure(buyer: Any, cotton: Any, financial_year: Any) -> None:
    requirement = _draft_requirement(buyer, cotton)
    requirements.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    requirements.requirement_cancel(actor=buyer.owner, requirement_id=requirement.pk, reason="Bought elsewhere")

    entry = ExposureEntry.objects.get(source_id=requirement.pk)
    assert (entry.released_at is not None, entry.release_reason) == (True, "RELEASED")
    assert CreditAccount.objects.get(partner_id=buyer.pk).posted_amount == Decimal("0.00")


def test_an_expired_requirement_releases_its_exposure_through_risks_handler(
    buyer: Any, cotton: Any, financial_year: Any
) -> None:
    requirement = _draft_requirement(buyer, cotton)
    requirements.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)
    Requirement.objects.filter(pk=requirement.pk).update(valid_until=requirement.created_at)
    requirements.requirements_expire_due()

    event = OutboxEvent.objects.get(type="tradedesk.requirement.expired")
    for handler in handlers_for(event.type):
        if handler.name.startswith("risk."):
            with transaction.atomic():
                handler.fn(EventEnvelope.from_row(event))

    assert ExposureEntry.objects.get(source_id=requirement.pk).released_at is not None
    assert CreditAccount.objects.get(partner_id=buyer.pk).posted_amount == Decimal("0.00")


def test_a_seller_failing_its_check_may_not_submit(seller: Any, cotton: Any, financial_year: Any) -> None:
    _credit(seller, rating=Decimal("2.0"), delivery_performance=Decimal("10"))
    availability = availabilities.availability_create(
        actor=seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton)
    )

    error = _refused(lambda: availabilities.availability_submit(actor=seller.owner, availability_id=availability.pk))

    assert (error.status, error.code) == (403, "risk_failed")
    assert [f["code"] for f in error.extra["factors"]] == ["rating_low", "delivery_performance_poor"]
    availability.refresh_from_db()
    assert availability.status == AvailabilityStatus.DRAFT
    assert Assessment.objects.count() == 0


def test_a_seller_passing_its_check_submits_and_the_check_is_recorded(
    seller: Any, cotton: Any, financial_year: Any
) -> None:
    availability = availabilities.availability_create(
        actor=seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton)
    )

    availabilities.availability_submit(actor=seller.owner, availability_id=availability.pk)

    assert Availability.objects.get(pk=availability.pk).status == AvailabilityStatus.PENDING_APPROVAL
    assessment = Assessment.objects.get(source_type="availability", source_id=availability.pk)
    assert (assessment.side, assessment.result) == ("SELLER", "PASS")

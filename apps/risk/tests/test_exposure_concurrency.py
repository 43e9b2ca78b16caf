"""Concurrent reservations against one partner's limit (threads against Postgres)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.risk.errors import CreditLimitExceeded
from apps.risk.models import ExposureEntry, ExposureStage
from apps.risk.services.exposure import (
    TransactionRequired,
    exposure_book,
    exposure_release,
    exposure_reserve_within_limit,
)
from apps.risk.tests.factories import exposure_and_limit, ledger_disagreements, set_credit

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = Decimal("1000000")
TENTH = Decimal("100000")


def _reserve(partner_id: Any) -> str:
    source_id = uuid.uuid4()
    try:
        with transaction.atomic():
            exposure_reserve_within_limit(
                partner_id=partner_id,
                stage=ExposureStage.CONTRACTED,
                amount=TENTH,
                source_type="trade",
                source_id=source_id,
            )
    except CreditLimitExceeded:
        return "credit_limit_exceeded"
    return "reserved"


def test_32_threads_booking_a_tenth_of_the_limit_each_exactly_10_succeed(buyer: Any, run_concurrently: Any) -> None:
    set_credit(buyer, credit_limit=LIMIT)

    # Round 1: an empty account, 32 bookings of 10% each.
    results = run_concurrently(lambda: _reserve(buyer.pk), times=32)

    assert [r.error for r in results if r.error is not None] == []
    assert sorted(r.value for r in results).count("reserved") == 10
    assert exposure_and_limit(buyer) == (LIMIT, LIMIT)
    assert ledger_disagreements() == []

    # Round 2: three of them released; 32 more bookings: exactly three fit again.
    for entry in list(ExposureEntry.objects.filter(partner_id=buyer.pk, released_at__isnull=True)[:3]):
        with transaction.atomic():
            exposure_release(source_type=entry.source_type, source_id=entry.source_id)
    assert exposure_and_limit(buyer) == (LIMIT - 3 * TENTH, LIMIT)

    results = run_concurrently(lambda: _reserve(buyer.pk), times=32)

    assert [r.error for r in results if r.error is not None] == []
    assert [r.value for r in results].count("reserved") == 3
    assert exposure_and_limit(buyer) == (LIMIT, LIMIT)
    assert ExposureEntry.objects.filter(partner_id=buyer.pk, released_at__isnull=True).count() == 10
    assert ledger_disagreements() == []


def test_the_ledger_functions_refuse_to_run_outside_a_transaction(buyer: Any) -> None:
    with pytest.raises(TransactionRequired):
        exposure_book(
            partner_id=buyer.pk, stage="CONTRACTED", amount=Decimal("1"), source_type="trade", source_id=uuid.uuid4()
        )
    with pytest.raises(TransactionRequired):
        exposure_release(source_type="trade", source_id=uuid.uuid4())
    assert ExposureEntry.objects.count() == 0

"""The exposure ledger: booking, moving, resizing, releasing, the limit check under the credit
row's lock, and the utilisation alerts."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.events.models import OutboxEvent
from apps.risk.errors import CreditBlocked, CreditLimitExceeded, ExposureInvalid, PartnerNotFound
from apps.risk.models import CreditAccount, ExposureAlert, ExposureEntry, ExposureStage, UtilisationLevel
from apps.risk.services.exposure import (
    credit_ensure_not_blocked,
    exposure_book,
    exposure_move,
    exposure_release,
    exposure_reserve_within_limit,
    exposure_resize,
)
from apps.risk.tests.factories import exposure_and_limit, ledger_disagreements, set_credit

pytestmark = pytest.mark.django_db


def book(partner: Any, amount: str, stage: str = ExposureStage.CONTRACTED, *, source_id: Any = None, **kw: Any) -> Any:
    with transaction.atomic():
        return exposure_book(
            partner_id=partner.pk,
            stage=stage,
            amount=Decimal(amount),
            source_type=kw.pop("source_type", "trade"),
            source_id=source_id or uuid.uuid4(),
            **kw,
        )


def alerts_emitted(partner: Any) -> list[tuple[str, str]]:
    return [
        (e.payload["from_level"], e.payload["to_level"])
        for e in OutboxEvent.objects.filter(type="risk.exposure.alert", partner_id=partner.pk).order_by("position")
    ]


def test_a_booking_adds_its_amount_at_the_stage_weight(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))

    book(buyer, "400000", ExposureStage.NEGOTIATING)
    book(buyer, "100000", ExposureStage.CONTRACTED)
    book(buyer, "900000", ExposureStage.POSTED)

    account = CreditAccount.objects.get(partner_id=buyer.pk)
    assert account.negotiating_amount == Decimal("400000.00")
    assert account.contracted_amount == Decimal("100000.00")
    assert account.posted_amount == Decimal("900000.00")
    assert account.exposure == Decimal("200000.00")  # 400000 x 0.25 + 100000 x 1 + 900000 x 0
    assert account.utilisation == Decimal("0.2000")
    assert ledger_disagreements() == []


def test_booking_the_same_source_twice_changes_nothing(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    source = uuid.uuid4()

    first = book(buyer, "100000", source_id=source)
    second = book(buyer, "250000", source_id=source)

    assert second.pk == first.pk
    assert ExposureEntry.objects.filter(source_id=source).count() == 1
    assert exposure_and_limit(buyer) == (Decimal("100000.00"), Decimal("1000000.00"))


def test_a_trade_books_its_buyer_and_its_seller_and_moves_both(buyer: Any, seller: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    set_credit(seller, credit_limit=Decimal("1000000"))
    trade = uuid.uuid4()
    book(buyer, "200000", ExposureStage.CONTRACTED, source_id=trade)
    book(seller, "200000", ExposureStage.CONTRACTED, source_id=trade)

    with transaction.atomic():
        exposure_move(source_type="trade", source_id=trade, to_stage=ExposureStage.DELIVERED_UNBILLED)

    open_entries = ExposureEntry.objects.filter(source_id=trade, released_at__isnull=True)
    assert sorted((e.partner_id, e.stage) for e in open_entries) == sorted(
        [(buyer.pk, "DELIVERED_UNBILLED"), (seller.pk, "DELIVERED_UNBILLED")]
    )
    assert ExposureEntry.objects.filter(source_id=trade, release_reason="MOVED").count() == 2
    assert ledger_disagreements() == []


def test_a_move_releases_the_old_entry_and_books_a_new_one_both_kept(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    negotiation = uuid.uuid4()
    book(buyer, "400000", ExposureStage.NEGOTIATING, source_id=negotiation, source_type="negotiation")

    with transaction.atomic():
        exposure_move(source_type="negotiation", source_id=negotiation, to_stage=ExposureStage.CONTRACTED)
    with transaction.atomic():  # moving to the stage it is at changes nothing
        exposure_move(source_type="negotiation", source_id=negotiation, to_stage=ExposureStage.CONTRACTED)

    entries = list(ExposureEntry.objects.filter(source_id=negotiation).order_by("booked_at"))
    assert [(e.stage, e.amount, e.released_at is not None, e.release_reason) for e in entries] == [
        ("NEGOTIATING", Decimal("400000.00"), True, "MOVED"),
        ("CONTRACTED", Decimal("400000.00"), False, ""),
    ]
    account = CreditAccount.objects.get(partner_id=buyer.pk)
    assert (account.negotiating_amount, account.contracted_amount, account.exposure) == (
        Decimal("0.00"),
        Decimal("400000.00"),
        Decimal("400000.00"),
    )
    assert ledger_disagreements() == []


def test_release_returns_the_exposure_and_releasing_again_changes_nothing(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    trade = uuid.uuid4()
    book(buyer, "300000", source_id=trade)
    book(buyer, "100000")

    with transaction.atomic():
        exposure_release(source_type="trade", source_id=trade)
    with transaction.atomic():
        exposure_release(source_type="trade", source_id=trade)

    assert exposure_and_limit(buyer) == (Decimal("100000.00"), Decimal("1000000.00"))
    released = ExposureEntry.objects.get(source_id=trade)
    assert released.release_reason == "RELEASED"
    assert ledger_disagreements() == []


def test_resize_rebooks_the_new_amount_and_refuses_an_increase_beyond_the_limit(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    trade = uuid.uuid4()
    book(buyer, "300000", source_id=trade)
    book(buyer, "500000")

    with transaction.atomic():
        exposure_resize(source_type="trade", source_id=trade, amount=Decimal("400000"))
    with pytest.raises(CreditLimitExceeded) as refused, transaction.atomic():
        exposure_resize(source_type="trade", source_id=trade, amount=Decimal("600000"))

    assert refused.value.extra["headroom"] == "100000.00"
    assert exposure_and_limit(buyer) == (Decimal("900000.00"), Decimal("1000000.00"))
    assert ExposureEntry.objects.filter(source_id=trade).count() == 2
    with transaction.atomic():  # without the limit check (an amendment already agreed)
        exposure_resize(source_type="trade", source_id=trade, amount=Decimal("600000"), within_limit=False)
    assert exposure_and_limit(buyer) == (Decimal("1100000.00"), Decimal("1000000.00"))
    assert ledger_disagreements() == []


def test_reserve_within_limit_refuses_beyond_the_limit_with_the_headroom_and_writes_nothing(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    book(buyer, "800000")
    before = ExposureEntry.objects.count()

    with pytest.raises(CreditLimitExceeded) as refused, transaction.atomic():
        exposure_reserve_within_limit(
            partner_id=buyer.pk,
            stage=ExposureStage.CONTRACTED,
            amount=Decimal("200000.01"),
            source_type="trade",
            source_id=uuid.uuid4(),
        )

    assert refused.value.status == 409
    assert refused.value.code == "credit_limit_exceeded"
    assert refused.value.extra == {
        "credit_limit": "1000000.00",
        "exposure": "800000.00",
        "headroom": "200000.00",
        "requested": "200000.01",
    }
    assert ExposureEntry.objects.count() == before
    assert exposure_and_limit(buyer) == (Decimal("800000.00"), Decimal("1000000.00"))


def test_reserve_within_limit_books_up_to_exactly_the_limit_and_weighs_the_stage(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    book(buyer, "800000")

    with transaction.atomic():
        exposure_reserve_within_limit(
            partner_id=buyer.pk,
            stage=ExposureStage.NEGOTIATING,
            amount=Decimal("800000"),  # weighs 200000 at 0.25
            source_type="negotiation",
            source_id=uuid.uuid4(),
        )

    assert exposure_and_limit(buyer) == (Decimal("1000000.00"), Decimal("1000000.00"))


@pytest.mark.parametrize(
    ("amount", "stage", "currency", "code"),
    [
        ("0", "CONTRACTED", "INR", "amount_invalid"),
        ("-5", "CONTRACTED", "INR", "amount_invalid"),
        ("NaN", "CONTRACTED", "INR", "amount_invalid"),
        ("100", "SHIPPED", "INR", "stage_invalid"),
        ("100", "CONTRACTED", "USD", "currency_mismatch"),
    ],
)
def test_bad_bookings_are_refused_with_a_code_and_nothing_written(
    buyer: Any, amount: str, stage: str, currency: str, code: str
) -> None:
    with pytest.raises(ExposureInvalid) as refused:
        book(buyer, amount, stage, currency=currency)

    assert refused.value.code == code
    assert ExposureEntry.objects.count() == 0


def test_booking_for_an_unknown_partner_is_refused(db: Any) -> None:
    with pytest.raises(PartnerNotFound), transaction.atomic():
        exposure_book(
            partner_id=uuid.uuid4(),
            stage="CONTRACTED",
            amount=Decimal("1"),
            source_type="trade",
            source_id=uuid.uuid4(),
        )
    assert ExposureEntry.objects.count() == 0


def test_a_partner_without_a_credit_row_gets_one_with_its_onboarding_limit(buyer: Any) -> None:
    CreditAccount.objects.filter(partner_id=buyer.pk).delete()

    book(buyer, "1000")

    assert exposure_and_limit(buyer) == (Decimal("1000.00"), Decimal("1000000.00"))


def test_each_level_crossing_emits_exactly_one_alert_up_and_down(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    first = uuid.uuid4()

    book(buyer, "500000", source_id=first)  # 50%: LOW
    book(buyer, "100000")  # 60%: still LOW
    book(buyer, "100000")  # 70%: still LOW
    book(buyer, "60000")  # 76%: MEDIUM
    book(buyer, "250000")  # 101%: CRITICAL (skips HIGH: one crossing)
    with transaction.atomic():
        exposure_release(source_type="trade", source_id=first)  # 51%: LOW

    assert alerts_emitted(buyer) == [
        ("NORMAL", "LOW"),
        ("LOW", "MEDIUM"),
        ("MEDIUM", "CRITICAL"),
        ("CRITICAL", "LOW"),
    ]
    assert ExposureAlert.objects.filter(partner_id=buyer.pk).count() == 4
    assert CreditAccount.objects.get(partner_id=buyer.pk).level == UtilisationLevel.LOW


def test_credit_is_blocked_at_critical_utilisation(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("1000000"))
    book(buyer, "999999.99")
    credit_ensure_not_blocked(partner_id=buyer.pk)

    book(buyer, "0.01")

    with pytest.raises(CreditBlocked) as refused:
        credit_ensure_not_blocked(partner_id=buyer.pk)
    assert (refused.value.status, refused.value.code) == (409, "credit_blocked")


def test_a_partner_without_limit_or_exposure_is_not_blocked(buyer: Any) -> None:
    set_credit(buyer, credit_limit=Decimal("0"))

    credit_ensure_not_blocked(partner_id=buyer.pk)
    credit_ensure_not_blocked(partner_id=uuid.uuid4())

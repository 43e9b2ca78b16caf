"""A trade's life (SPEC section 10): the status machine by capability with the exposure moving
along, disputes, cancellation by agreement or by the desk reversing what was not delivered, and
amendments approved by the counterparty; and a property: any sequence of create / amend /
cancel leaves availability, requirement and exposure totals equal to what the surviving trades
imply."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.risk.models import CreditAccount
from apps.tradedesk.models import Availability, Requirement
from apps.trades import events
from apps.trades.models import Trade, TradeAmendment
from apps.trades.services import amendments
from apps.trades.services import trades as services
from apps.trades.services.negotiations import OfferTerms, negotiation_offer_make
from apps.trades.tests.factories import offer, offer_data, start
from apps.trades.tests.test_negotiations import refused


def made(deal, **overrides) -> Trade:
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner, **overrides)
    return services.negotiation_accept(actor=deal.seller.owner, negotiation_id=negotiation.pk)


def step(trade, actor, to_status, **options) -> Trade:
    return services.trade_status_change(actor=actor, trade_id=trade.pk, to_status=to_status, **options)


def row(partner) -> CreditAccount:
    return CreditAccount.objects.get(partner_id=partner.pk)


def quantities(deal):
    availability = Availability.objects.get(pk=deal.availability.pk)
    requirement = Requirement.objects.get(pk=deal.requirement.pk)
    return availability.available_kg, availability.sold_kg, requirement.fulfilled_kg


# --- the status machine -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seller_ships_the_buyer_confirms_delivery_and_the_desk_completes(deal, desk_manager):
    trade = made(deal)

    step(trade, deal.seller.owner, "IN_TRANSIT")
    step(trade, deal.buyer.owner, "DELIVERED")
    assert (row(deal.buyer).contracted_amount, row(deal.buyer).delivered_unbilled_amount) == (
        Decimal("0.00"),
        Decimal("1505820.82"),
    )
    done = step(trade, desk_manager, "COMPLETED")

    assert (done.status, done.delivered_kg, done.closed_at is not None) == ("COMPLETED", Decimal("8500.000"), True)
    assert row(deal.buyer).exposure == Decimal("0.00")
    changes = OutboxEvent.objects.filter(type=events.TRADE_STATUS_CHANGED).order_by("position")
    assert [(e.payload["from"], e.payload["status"], e.payload["side"]) for e in changes] == [
        ("CONFIRMED", "IN_TRANSIT", "SELLER"),
        ("IN_TRANSIT", "DELIVERED", "BUYER"),
        ("DELIVERED", "COMPLETED", "DESK"),
    ]


@pytest.mark.parametrize(
    ("who", "to_status", "code"),
    [("buyer", "IN_TRANSIT", "wrong_side"), ("seller", "DELIVERED", "invalid_transition")],
)
@pytest.mark.django_db
def test_a_step_by_the_wrong_side_or_from_the_wrong_state_is_refused(deal, who, to_status, code):
    trade = made(deal)
    events_before = OutboxEvent.objects.count()

    error = refused(lambda: step(trade, getattr(deal, who).owner, to_status))

    assert error.code == code
    trade.refresh_from_db()
    assert trade.status == "CONFIRMED"
    assert OutboxEvent.objects.count() == events_before


@pytest.mark.django_db
def test_completing_is_for_the_desk_not_a_party(deal):
    trade = made(deal)
    step(trade, deal.seller.owner, "IN_TRANSIT")
    step(trade, deal.buyer.owner, "DELIVERED")

    error = refused(lambda: step(trade, deal.buyer.owner, "COMPLETED"))

    assert error.code == "wrong_side"
    assert Trade.objects.get(pk=trade.pk).status == "DELIVERED"


@pytest.mark.django_db
def test_a_dispute_needs_a_reason_and_the_desk_settles_it_back(deal, desk_manager):
    trade = made(deal)
    step(trade, deal.seller.owner, "IN_TRANSIT")
    assert refused(lambda: step(trade, deal.buyer.owner, "DISPUTED")).code == "reason_required"

    disputed = step(trade, deal.buyer.owner, "DISPUTED", reason="Bales wet on arrival")
    assert (disputed.status, disputed.status_before_dispute, disputed.dispute_reason) == (
        "DISPUTED",
        "IN_TRANSIT",
        "Bales wet on arrival",
    )
    assert refused(lambda: step(trade, deal.seller.owner, "IN_TRANSIT")).code == "wrong_side"
    assert refused(lambda: step(trade, desk_manager, "DELIVERED")).code == "invalid_transition"

    settled = step(trade, desk_manager, "IN_TRANSIT")
    assert (settled.status, settled.status_before_dispute) == ("IN_TRANSIT", "")


# --- cancellation -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cancellation_by_agreement_reverses_the_sale_fulfilment_and_exposure(deal):
    trade = made(deal)

    asked = services.trade_cancel(actor=deal.buyer.owner, trade_id=trade.pk, reason="Mill shutdown")
    assert (asked.status, asked.cancel_requested_by) == ("CONFIRMED", "BUYER")
    assert refused(lambda: services.trade_cancel(actor=deal.buyer.owner, trade_id=trade.pk)).code == (
        "cancel_already_requested"
    )
    cancelled = services.trade_cancel(actor=deal.seller.owner, trade_id=trade.pk)

    assert (cancelled.status, cancelled.cancel_reason) == ("CANCELLED", "Mill shutdown")
    assert quantities(deal) == (Decimal("17000.000"), Decimal("0.000"), Decimal("0.000"))
    assert Requirement.objects.get(pk=deal.requirement.pk).status == "ACTIVE"
    assert row(deal.buyer).exposure == Decimal("0.00")
    assert row(deal.seller).contracted_amount == Decimal("0.00")
    event = OutboxEvent.objects.get(type=events.TRADE_CANCELLED)
    assert (event.payload["returned_kg"], event.payload["from"]) == ("8500.000", "CONFIRMED")


@pytest.mark.django_db
def test_the_desk_cancels_with_a_reason_and_a_final_trade_cannot_be_cancelled(deal, desk_manager):
    trade = made(deal)
    assert refused(lambda: services.trade_cancel(actor=desk_manager, trade_id=trade.pk)).code == "reason_required"

    services.trade_cancel(actor=desk_manager, trade_id=trade.pk, reason="Seller's gin sealed")

    error = refused(lambda: services.trade_cancel(actor=desk_manager, trade_id=trade.pk, reason="again"))
    assert (error.code, error.extra["current_state"]) == ("invalid_transition", "CANCELLED")


@pytest.mark.django_db
def test_a_delivered_trade_cancelled_in_dispute_returns_nothing_to_the_market(deal, desk_manager):
    trade = made(deal)
    step(trade, deal.seller.owner, "IN_TRANSIT")
    step(trade, deal.buyer.owner, "DELIVERED")
    step(trade, deal.buyer.owner, "DISPUTED", reason="Short weight")

    services.trade_cancel(actor=desk_manager, trade_id=trade.pk, reason="Settled outside")

    assert quantities(deal) == (Decimal("8500.000"), Decimal("8500.000"), Decimal("8500.000"))
    assert row(deal.buyer).exposure == Decimal("0.00")


# --- amendments -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_price_amendment_applies_when_the_counterparty_approves(deal):
    trade = made(deal)

    amendment = amendments.trade_amendment_request(
        actor=deal.seller.owner, trade_id=trade.pk, kind="PRICE", values={"price": "61000"}, reason="Freight up"
    )
    assert (amendment.old_values, amendment.new_values) == ({"price": "60000.00"}, {"price": "61000.00"})
    assert (
        refused(
            lambda: amendments.trade_amendment_decide(
                actor=deal.seller.owner, trade_id=trade.pk, amendment_id=amendment.pk, approve=True
            )
        ).code
        == "own_amendment"
    )

    amendments.trade_amendment_decide(
        actor=deal.buyer.owner, trade_id=trade.pk, amendment_id=amendment.pk, approve=True
    )

    trade.refresh_from_db()
    assert (trade.price, trade.amount) == (Decimal("61000.00"), Decimal("1458016.98"))
    assert row(deal.buyer).contracted_amount == trade.total_amount
    assert row(deal.seller).contracted_amount == trade.total_amount
    assert TradeAmendment.objects.get().status == "APPROVED"


@pytest.mark.django_db
def test_a_quantity_increase_sells_more_and_a_decrease_gives_it_back(deal):
    trade = made(deal)

    up = amendments.trade_amendment_request(
        actor=deal.buyer.owner, trade_id=trade.pk, kind="QUANTITY", values={"quantity": "70"}
    )
    amendments.trade_amendment_decide(actor=deal.seller.owner, trade_id=trade.pk, amendment_id=up.pk, approve=True)
    assert quantities(deal) == (Decimal("5100.000"), Decimal("11900.000"), Decimal("11900.000"))

    down = amendments.trade_amendment_request(
        actor=deal.seller.owner, trade_id=trade.pk, kind="QUANTITY", values={"quantity": "40"}
    )
    amendments.trade_amendment_decide(actor=deal.buyer.owner, trade_id=trade.pk, amendment_id=down.pk, approve=True)

    assert quantities(deal) == (Decimal("10200.000"), Decimal("6800.000"), Decimal("6800.000"))
    trade.refresh_from_db()
    assert (trade.quantity, trade.quantity_kg) == (Decimal("40.000"), Decimal("6800.000"))
    assert row(deal.buyer).contracted_amount == trade.total_amount


@pytest.mark.django_db
def test_an_increase_is_gated_by_the_buyers_limit_only(deal):
    """Both sides' entries grow with an amendment, but only the buyer's credit can refuse it."""
    from apps.trades.tests.factories import credit

    trade = made(deal)
    credit(deal.seller, Decimal("1000"))
    up = amendments.trade_amendment_request(
        actor=deal.buyer.owner, trade_id=trade.pk, kind="QUANTITY", values={"quantity": "70"}
    )
    amendments.trade_amendment_decide(actor=deal.seller.owner, trade_id=trade.pk, amendment_id=up.pk, approve=True)
    trade.refresh_from_db()
    assert row(deal.seller).contracted_amount == trade.total_amount == row(deal.buyer).contracted_amount

    credit(deal.buyer, row(deal.buyer).exposure)
    before = row(deal.buyer).contracted_amount
    more = amendments.trade_amendment_request(
        actor=deal.buyer.owner, trade_id=trade.pk, kind="QUANTITY", values={"quantity": "80"}
    )
    error = refused(
        lambda: amendments.trade_amendment_decide(
            actor=deal.seller.owner, trade_id=trade.pk, amendment_id=more.pk, approve=True
        )
    )
    assert error.code == "credit_limit_exceeded"
    assert (row(deal.buyer).contracted_amount, row(deal.seller).contracted_amount) == (before, before)


@pytest.mark.django_db
def test_a_stranger_cannot_amend_and_a_rejected_amendment_changes_nothing(deal, third_partner):
    trade = made(deal)
    assert (
        refused(
            lambda: amendments.trade_amendment_request(
                actor=third_partner.owner, trade_id=trade.pk, kind="PRICE", values={"price": "1"}
            )
        ).code
        == "not_a_party"
    )
    amendment = amendments.trade_amendment_request(
        actor=deal.buyer.owner,
        trade_id=trade.pk,
        kind="DELIVERY_DATE",
        values={"delivery_until": (timezone.localdate() + timedelta(days=400)).isoformat()},
    )
    assert (
        refused(
            lambda: amendments.trade_amendment_request(
                actor=deal.seller.owner, trade_id=trade.pk, kind="PRICE", values={"price": "1"}
            )
        ).code
        == "amendment_pending"
    )

    amendments.trade_amendment_decide(
        actor=deal.seller.owner, trade_id=trade.pk, amendment_id=amendment.pk, approve=False
    )

    trade.refresh_from_db()
    assert trade.delivery_until.isoformat() == offer_data()["delivery_until"].isoformat()
    assert TradeAmendment.objects.get().status == "REJECTED"


# --- the property -----------------------------------------------------------------------------------


def _implied(deal) -> None:
    """Availability, requirement and exposure equal what the surviving trades imply."""
    live = Trade.objects.filter(availability=deal.availability).exclude(status="CANCELLED")
    sold = live.aggregate(total=Sum("quantity_kg"))["total"] or Decimal("0")
    availability = Availability.objects.get(pk=deal.availability.pk)
    requirement = Requirement.objects.get(pk=deal.requirement.pk)
    assert availability.sold_kg == sold
    assert availability.available_kg + availability.reserved_kg + availability.sold_kg == availability.total_kg
    assert requirement.fulfilled_kg == sold
    contracted = live.aggregate(total=Sum("total_amount"))["total"] or Decimal("0")
    for party in (deal.buyer, deal.seller):  # SPEC 10: both sides carry the open trades
        account = CreditAccount.objects.filter(partner_id=party.pk).first()
        assert (account.contracted_amount if account else Decimal("0")) == contracted


@pytest.mark.django_db
def test_any_sequence_of_create_amend_and_cancel_keeps_the_totals_implied_by_the_surviving_trades(request):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from apps.trades.tests.factories import deal as make_deal

    actions = st.lists(
        st.tuples(st.sampled_from(["create", "amend", "cancel"]), st.integers(min_value=10, max_value=40)),
        min_size=1,
        max_size=6,
    )
    seller, buyer, cotton = (request.getfixturevalue(name) for name in ("seller", "buyer", "cotton"))
    request.getfixturevalue("financial_year")

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(actions)
    def run(sequence):
        from django.db import transaction

        with transaction.atomic():
            deal = make_deal(seller, buyer, cotton, kg=Decimal("34000"), min_order_kg=Decimal("0"))
            deal.requirement.max_kg = Decimal("1000000")
            deal.requirement.max_quantity = Decimal("5000")
            deal.requirement.save(update_fields=["max_kg", "max_quantity"])
            trades: list[Trade] = []
            for action, bales in sequence:
                try:
                    if action == "create":
                        negotiation = start(deal)
                        negotiation_offer_make(
                            actor=buyer.owner,
                            negotiation_id=negotiation.pk,
                            terms=OfferTerms(**offer_data(quantity=Decimal(bales))),
                        )
                        trades.append(services.negotiation_accept(actor=seller.owner, negotiation_id=negotiation.pk))
                    elif action == "amend" and trades:
                        trade = trades[bales % len(trades)]
                        asked = amendments.trade_amendment_request(
                            actor=buyer.owner, trade_id=trade.pk, kind="QUANTITY", values={"quantity": str(bales)}
                        )
                        amendments.trade_amendment_decide(
                            actor=seller.owner, trade_id=trade.pk, amendment_id=asked.pk, approve=True
                        )
                    elif action == "cancel" and trades:
                        trade = trades[bales % len(trades)]
                        services.trade_cancel(actor=buyer.owner, trade_id=trade.pk)
                        services.trade_cancel(actor=seller.owner, trade_id=trade.pk)
                except Exception as error:  # a refusal (sold out, same quantity, already cancelled) is fine
                    if not hasattr(error, "code"):
                        raise
                _implied(deal)
            transaction.set_rollback(True)

    run()

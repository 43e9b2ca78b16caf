"""Accepting a negotiation makes the trade in one transaction (SPEC sections 9 and 10): the
reservation sold, the requirement fulfilled, the trade numbered with its snapshots and GST to the
paisa; refusals leave the negotiation IN_PROGRESS and everything as it was; two accepts racing
for the last bales make one trade."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.partners.models import Branch
from apps.partners.tests import factories as partner_factories
from apps.tradedesk.models import Availability, Requirement, Reservation
from apps.tradedesk.services import reservations as desk
from apps.tradedesk.tests import factories as desk_factories
from apps.trades import events
from apps.trades.models import Negotiation, Offer, PartnerTradeProfile, Trade
from apps.trades.services import trades as services
from apps.trades.tests.factories import Deal, credit, offer, place, start
from apps.trades.tests.test_negotiations import Snapshot, held, refused


def agreed(deal: Deal, **overrides) -> Negotiation:
    """The buyer offers 50 bales at 60,000 a candy; the seller accepts next."""
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner, **overrides)
    return negotiation


def accept(negotiation: Negotiation, actor) -> Trade:
    return services.negotiation_accept(actor=actor, negotiation_id=negotiation.pk)


@pytest.mark.django_db
def test_accepting_makes_a_numbered_trade_and_sells_the_quantity(deal):
    negotiation = agreed(deal)

    trade = accept(negotiation, deal.seller.owner)

    year = timezone.localdate().year if timezone.localdate().month >= 4 else timezone.localdate().year - 1
    assert trade.number == f"TR/{year}-{(year + 1) % 100:02d}/000001"
    assert (trade.status, trade.quantity_kg, trade.quantity_unit.code, trade.quantity_unit_factor) == (
        "CONFIRMED",
        Decimal("8500.000"),
        "BALE",
        Decimal("170.00000000"),
    )
    assert held(deal.availability) == (Decimal("8500.000"), Decimal("0.000"))
    deal.availability.refresh_from_db()
    assert deal.availability.sold_kg == Decimal("8500.000")
    assert Reservation.objects.get().status == "SOLD"
    requirement = Requirement.objects.get(pk=deal.requirement.pk)
    assert (requirement.fulfilled_kg, requirement.status) == (Decimal("8500.000"), "PARTIALLY_FULFILLED")
    negotiation.refresh_from_db()
    assert negotiation.status == "ACCEPTED"
    assert Offer.objects.get().status == "ACCEPTED"
    assert (trade.buyer_snapshot["code"], trade.seller_snapshot["legal_name"]) == (
        deal.buyer.code,
        deal.seller.legal_name,
    )
    assert (trade.ship_from["city"], trade.ship_to["city"], trade.bill_to["state_code"]) == (
        "Rajkot",
        "Coimbatore",
        "33",
    )
    assert trade.goods_snapshot["hsn_code"] == deal.availability.commodity.hsn_code
    types = list(
        OutboxEvent.objects.filter(type__startswith="trades.").order_by("position").values_list("type", flat=True)
    )
    assert types[-2:] == [events.NEGOTIATION_ACCEPTED, events.TRADE_CREATED]
    created = OutboxEvent.objects.get(type=events.TRADE_CREATED)
    assert (created.payload["number"], created.payload["total_amount"]) == (trade.number, "1505820.82")


@pytest.mark.django_db
def test_a_rajkot_ginner_to_a_coimbatore_mill_is_igst_to_the_paisa(deal):
    trade = accept(agreed(deal), deal.seller.owner)

    assert trade.amount == Decimal("1434115.07")  # 8500 kg x 60000 / 355.62, rounded once
    assert (trade.tax_kind, trade.place_of_supply, trade.gst_rate, trade.igst_rate) == (
        "INTER_STATE",
        "33",
        Decimal("5.00"),
        Decimal("5.00"),
    )
    assert (trade.igst_amount, trade.cgst_amount, trade.sgst_amount) == (
        Decimal("71705.75"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert (trade.tax_amount, trade.total_amount, trade.reverse_charge) == (
        Decimal("71705.75"),
        Decimal("1505820.82"),
        False,
    )


@pytest.mark.django_db
def test_rajkot_to_kadi_is_cgst_and_sgst_at_half_each(deal, organization):
    kadi = partner_factories.approved_partner(organization, legal_name="Kadi Spinners LLP")
    credit(kadi)
    place(kadi, city="Kadi", state_code="24")
    requirement = desk_factories.requirement(kadi, deal.availability.commodity, state_code="GJ")
    from apps.matching.tests.factories import proposal

    match = proposal(requirement, deal.availability)
    negotiation = start(Deal(deal.seller, kadi, deal.availability, requirement, match))
    offer(negotiation, kadi.owner)

    trade = accept(negotiation, deal.seller.owner)

    assert (trade.tax_kind, trade.place_of_supply) == ("INTRA_STATE", "24")
    assert (trade.cgst_rate, trade.sgst_rate, trade.igst_rate) == (Decimal("2.50"), Decimal("2.50"), Decimal("0.00"))
    assert (trade.cgst_amount, trade.sgst_amount, trade.igst_amount) == (
        Decimal("35852.88"),
        Decimal("35852.88"),
        Decimal("0.00"),
    )
    assert (trade.amount, trade.tax_amount, trade.total_amount) == (
        Decimal("1434115.07"),
        Decimal("71705.76"),
        Decimal("1505820.83"),
    )


@pytest.mark.django_db
def test_an_agriculturist_sellers_trade_is_under_reverse_charge(deal):
    PartnerTradeProfile.objects.create(partner=deal.seller, is_agriculturist=True)

    trade = accept(agreed(deal), deal.seller.owner)

    assert trade.reverse_charge is True


@pytest.mark.django_db
def test_a_buyer_with_several_receiving_branches_and_no_default_picks_one(deal):
    Branch.objects.filter(partner=deal.buyer).update(is_default_ship_to=False)
    head_office = Branch.objects.get(partner=deal.buyer)
    warehouse = Branch.objects.create(
        partner=deal.buyer,
        code="WH1",
        name="Tiruppur godown",
        branch_type="WAREHOUSE",
        city="Tiruppur",
        state_code="33",
    )

    trade = accept(agreed(deal), deal.seller.owner)

    assert (trade.status, trade.ship_to, trade.bill_to["branch_id"]) == (
        "PENDING_BRANCH_SELECTION",
        {},
        str(head_office.pk),
    )
    error = refused(
        lambda: services.trade_branches_select(
            actor=deal.seller.owner, trade_id=trade.pk, ship_to_branch_id=warehouse.pk
        )
    )
    assert error.code == "wrong_side"

    picked = services.trade_branches_select(actor=deal.buyer.owner, trade_id=trade.pk, ship_to_branch_id=warehouse.pk)

    assert (picked.status, picked.ship_to["city"], picked.tax_kind) == ("CONFIRMED", "Tiruppur", "INTER_STATE")
    assert OutboxEvent.objects.filter(type=events.TRADE_BRANCHES_SELECTED).count() == 1


@pytest.mark.django_db
def test_a_party_cannot_accept_its_own_offer(deal):
    negotiation = agreed(deal)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: accept(negotiation, deal.buyer.owner))

    assert (error.code, error.status) == ("own_offer", 409)
    assert before.unchanged()
    assert not Trade.objects.exists()


@pytest.mark.django_db
def test_nothing_to_accept_before_an_offer_and_nothing_after_acceptance(deal):
    negotiation = start(deal)
    assert refused(lambda: accept(negotiation, deal.seller.owner)).code == "no_open_offer"
    offer(negotiation, deal.buyer.owner)
    accept(negotiation, deal.seller.owner)
    before = Snapshot(negotiation, deal.availability)

    again = refused(lambda: accept(negotiation, deal.seller.owner))
    late_offer = refused(lambda: offer(negotiation, deal.seller.owner))

    assert (again.code, again.extra["status"], late_offer.code) == (
        "negotiation_closed",
        "ACCEPTED",
        "negotiation_closed",
    )
    assert before.unchanged()
    assert Trade.objects.count() == 1


@pytest.mark.django_db
def test_an_accept_whose_bales_have_gone_refuses_cleanly_and_stays_in_progress(deal):
    negotiation = agreed(deal)
    # The desk's safety net took the negotiation's reservation, and another buyer took the bales.
    desk.reservations_expire_due(now=timezone.now() + timedelta(days=3))
    other = desk.availability_reserve(
        availability_id=deal.availability.pk, quantity_kg=Decimal("17000"), purpose="TRADE"
    )
    desk.availability_sell(reservation_id=other.pk)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: accept(negotiation, deal.seller.owner))

    assert (error.code, error.status) == ("insufficient_quantity", 409)
    assert before.unchanged()
    negotiation.refresh_from_db()
    assert negotiation.status == "IN_PROGRESS"
    assert not Trade.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_negotiations_accepting_the_last_50_bales_at_once_make_one_trade(
    organization, seller, buyer, cotton, financial_year, run_concurrently
):
    from apps.matching.tests.factories import proposal
    from apps.trades.tests.factories import deal as make_deal

    first = make_deal(seller, buyer, cotton, kg=Decimal("17000"))
    second_buyer = partner_factories.approved_partner(organization, legal_name="Tiruppur Knits Limited")
    credit(second_buyer)
    place(second_buyer, city="Tiruppur", state_code="33")
    second_requirement = desk_factories.requirement(second_buyer, cotton)
    second = Deal(
        seller, second_buyer, first.availability, second_requirement, proposal(second_requirement, first.availability)
    )
    negotiations = []
    for deal in (first, second):
        negotiation = start(deal)
        offer(negotiation, deal.buyer.owner)  # 50 bales each: 100 held of 100
        negotiations.append(negotiation)
    # Both reservations lapse (the desk's safety net); 50 bales are sold elsewhere: 50 are left.
    desk.reservations_expire_due(now=timezone.now() + timedelta(days=3))
    elsewhere = desk.availability_reserve(
        availability_id=first.availability.pk, quantity_kg=Decimal("8500"), purpose="TRADE"
    )
    desk.availability_sell(reservation_id=elsewhere.pk)
    pending = iter(negotiations)
    import threading

    lock = threading.Lock()

    def accept_one() -> str:
        with lock:
            negotiation = next(pending)
        try:
            accept(negotiation, seller.owner)
        except Exception as error:
            return getattr(error, "code", repr(error))
        return "trade"

    results = run_concurrently(accept_one, times=2)

    assert sorted(r.value for r in results) == ["insufficient_quantity", "trade"]
    availability = Availability.objects.get(pk=first.availability.pk)
    assert (availability.available_kg, availability.reserved_kg, availability.sold_kg, availability.status) == (
        Decimal("0.000"),
        Decimal("0.000"),
        Decimal("17000.000"),
        "SOLD",
    )
    assert Trade.objects.count() == 1
    statuses = sorted(Negotiation.objects.values_list("status", flat=True))
    assert statuses == ["ACCEPTED", "IN_PROGRESS"]


# --- the buyer's credit -----------------------------------------------------------------------------


def credit_row(partner):
    from apps.risk.models import CreditAccount

    return CreditAccount.objects.get(partner_id=partner.pk)


@pytest.mark.django_db
def test_the_offer_books_negotiating_exposure_and_the_accept_contracts_it(deal):
    negotiation = agreed(deal)
    row = credit_row(deal.buyer)
    assert (row.negotiating_amount, row.contracted_amount) == (Decimal("1434115.07"), Decimal("0.00"))

    accept(negotiation, deal.seller.owner)

    row = credit_row(deal.buyer)
    assert (row.negotiating_amount, row.contracted_amount, row.exposure) == (
        Decimal("0.00"),
        Decimal("1505820.82"),
        Decimal("1505820.82"),
    )


@pytest.mark.django_db
def test_the_accept_books_the_trade_for_the_seller_too_whatever_its_limit(deal):
    """SPEC 10: a trade books exposure for both sides. The seller's limit does not gate a sale
    (only the buyer's credit does), so a seller whose limit is far below the trade still sells."""
    from apps.risk.models import ExposureEntry

    negotiation = agreed(deal)
    credit(deal.seller, Decimal("1000"))

    trade = accept(negotiation, deal.seller.owner)

    seller_row = credit_row(deal.seller)
    assert (seller_row.negotiating_amount, seller_row.contracted_amount) == (Decimal("0.00"), Decimal("1505820.82"))
    entries = ExposureEntry.objects.filter(source_type="trade", source_id=trade.pk, released_at__isnull=True)
    assert sorted((str(e.partner_id), e.stage, e.amount) for e in entries) == sorted(
        [
            (str(deal.buyer.pk), "CONTRACTED", Decimal("1505820.82")),
            (str(deal.seller.pk), "CONTRACTED", Decimal("1505820.82")),
        ]
    )


@pytest.mark.django_db
def test_an_accept_beyond_the_buyers_limit_is_refused_and_changes_nothing(deal):
    negotiation = agreed(deal)
    credit(deal.buyer, Decimal("1500000"))
    before = Snapshot(negotiation, deal.availability)
    row_before = credit_row(deal.buyer)

    error = refused(lambda: accept(negotiation, deal.seller.owner))

    assert (error.code, error.status) == ("credit_limit_exceeded", 409)
    assert before.unchanged()
    negotiation.refresh_from_db()
    assert negotiation.status == "IN_PROGRESS"
    row = credit_row(deal.buyer)
    assert (row.negotiating_amount, row.contracted_amount, row.exposure) == (
        row_before.negotiating_amount,
        Decimal("0.00"),
        row_before.exposure,
    )
    assert not Trade.objects.exists()
    from apps.risk.models import ExposureEntry

    assert not ExposureEntry.objects.filter(partner_id=deal.seller.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_trades_racing_for_the_last_headroom_of_one_buyer_never_exceed_the_limit(
    organization, seller, buyer, cotton, financial_year, run_concurrently
):
    import threading

    from apps.matching.tests.factories import proposal
    from apps.trades.tests.factories import deal as make_deal

    first = make_deal(seller, buyer, cotton)
    second_offer = desk_factories.availability(seller, cotton, min_order_kg=Decimal("1700"))
    second = Deal(seller, buyer, second_offer, first.requirement, proposal(first.requirement, second_offer))
    negotiations = []
    for deal in (first, second):
        negotiation = start(deal)
        offer(negotiation, buyer.owner)  # 1,434,115.07 each, 25% weighted while negotiating
        negotiations.append(negotiation)
    credit(buyer, Decimal("2500000"))  # room for one trade of 1,505,820.82 and the other's negotiation
    pending, lock = iter(negotiations), threading.Lock()

    def accept_one() -> str:
        with lock:
            negotiation = next(pending)
        try:
            accept(negotiation, seller.owner)
        except Exception as error:
            return getattr(error, "code", repr(error))
        return "trade"

    results = run_concurrently(accept_one, times=2)

    assert sorted(r.value for r in results) == ["credit_limit_exceeded", "trade"]
    row = credit_row(buyer)
    assert row.exposure <= row.credit_limit
    assert (row.contracted_amount, row.negotiating_amount) == (Decimal("1505820.82"), Decimal("1434115.07"))
    assert Trade.objects.count() == 1
    loser = Negotiation.objects.get(status="IN_PROGRESS")
    assert Reservation.objects.get(owner_id=loser.pk).status == "ACTIVE"

"""Negotiations (SPEC section 9): started from a match token, strictly alternating offers that
hold their quantity on the availability, messages, reject, cancel and the inactivity expiry;
every refusal with its code and nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.tradedesk.models import Availability, Reservation
from apps.trades import events
from apps.trades.models import Negotiation, NegotiationMessage, Offer, TradesSettings
from apps.trades.services import negotiations as services
from apps.trades.tests.factories import offer, offer_data, start


def refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def trade_events(event_type: str | None = None) -> Any:
    found = OutboxEvent.objects.filter(type__startswith="trades.")
    return found.filter(type=event_type) if event_type else found


def held(availability: Availability) -> tuple[Decimal, Decimal]:
    availability.refresh_from_db()
    return availability.available_kg, availability.reserved_kg


class Snapshot:
    """What a refusal must leave as it was."""

    def __init__(self, negotiation: Negotiation | None, availability: Availability) -> None:
        self.negotiation, self.availability = negotiation, availability
        self.state = self.read()

    def read(self) -> Any:
        negotiation = None
        if self.negotiation is not None:
            n = Negotiation.objects.get(pk=self.negotiation.pk)
            negotiation = (n.status, n.rounds, n.next_side, n.expires_at, n.reservation_id)
        return (
            negotiation,
            list(Offer.objects.order_by("round").values_list("round", "status", "quantity_kg")),
            held(self.availability),
            list(Reservation.objects.order_by("created_at").values_list("quantity_kg", "status")),
            OutboxEvent.objects.count(),
            NegotiationMessage.objects.count(),
        )

    def unchanged(self) -> bool:
        return self.read() == self.state


# --- start ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_buyer_starts_from_the_token_and_both_identities_are_revealed(deal):
    negotiation = start(deal)

    assert (negotiation.status, negotiation.buyer_id, negotiation.seller_id) == (
        "INITIATED",
        deal.buyer.pk,
        deal.seller.pk,
    )
    assert (negotiation.match_id, negotiation.started_for, negotiation.max_rounds) == (deal.match.pk, "BUYER", 10)
    assert timezone.now() + timedelta(hours=47) < negotiation.expires_at <= timezone.now() + timedelta(hours=48)
    event = trade_events(events.NEGOTIATION_STARTED).get()
    assert (event.payload["buyer"]["code"], event.payload["seller"]["name"]) == (
        deal.buyer.code,
        deal.seller.legal_name,
    )
    assert (event.aggregate_id, event.organization_id) == (str(negotiation.pk), deal.buyer.organization_id)
    system = NegotiationMessage.objects.get()
    assert (system.kind, system.side, system.author_id) == ("SYSTEM", "", None)
    assert held(deal.availability) == (Decimal("17000.000"), Decimal("0.000"))  # nothing held before an offer


@pytest.mark.django_db
def test_the_seller_may_start_too_and_the_organizations_settings_give_the_rounds(deal):
    TradesSettings.objects.create(organization_id=deal.seller.organization_id, max_rounds=4, inactivity_hours=12)

    negotiation = start(deal, deal.seller.owner)

    assert (negotiation.started_for, negotiation.max_rounds) == ("SELLER", 4)
    assert negotiation.expires_at <= timezone.now() + timedelta(hours=12)


@pytest.mark.django_db
def test_the_desk_starts_on_a_partners_behalf(deal, desk_manager):
    from django.contrib.auth.models import Permission

    desk_manager.user_permissions.add(Permission.objects.get(codename="negotiate_for_partner"))

    negotiation = services.negotiation_start(
        actor=desk_manager, match_token=deal.match.token, on_behalf_of=deal.buyer.pk
    )

    assert (negotiation.started_for, negotiation.started_by_id) == ("BUYER", desk_manager.pk)


@pytest.mark.django_db
def test_a_pair_has_one_open_negotiation(deal):
    first = start(deal)

    error = refused(lambda: start(deal, deal.seller.owner))

    assert (error.code, error.status, error.extra["negotiation_id"]) == ("negotiation_exists", 409, str(first.pk))
    assert Negotiation.objects.count() == 1


@pytest.mark.django_db
def test_a_third_partner_or_another_organization_cannot_use_the_token(deal, third_partner, foreign_partner):
    for outsider in (third_partner.owner, foreign_partner.owner):
        error = refused(lambda outsider=outsider: start(deal, outsider))
        assert (error.code, error.status) == ("match_not_found", 404)
    error = refused(lambda: services.negotiation_start(actor=deal.buyer.owner, match_token="not-a-token"))
    assert error.code == "match_not_found"
    assert not Negotiation.objects.exists()
    assert not trade_events().exists()


@pytest.mark.django_db
def test_a_viewer_of_a_party_may_not_start(deal, buyer_viewer):
    error = refused(lambda: start(deal, buyer_viewer))

    assert (error.code, error.status) == ("permission_denied", 403)
    assert not Negotiation.objects.exists()


@pytest.mark.django_db
def test_a_suspended_seller_cannot_be_negotiated_with(deal):
    deal.seller.status = "SUSPENDED"
    deal.seller.save(update_fields=["status"])

    error = refused(lambda: start(deal))

    assert (error.code, error.status) == ("partner_not_active", 403)
    assert not Negotiation.objects.exists()


# --- offers -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_offer_holds_its_quantity_until_the_negotiations_expiry(deal):
    negotiation = start(deal)

    made = offer(negotiation, deal.buyer.owner)

    negotiation.refresh_from_db()
    assert (negotiation.status, negotiation.rounds, negotiation.next_side) == ("IN_PROGRESS", 1, "SELLER")
    assert (made.round, made.side, made.status, made.quantity_kg, made.price_per_kg) == (
        1,
        "BUYER",
        "OPEN",
        Decimal("8500.000"),
        Decimal("168.7194"),
    )
    reservation = Reservation.objects.get()
    assert (reservation.quantity_kg, reservation.owner_type, reservation.owner_id) == (
        Decimal("8500.000"),
        "trades.negotiation",
        negotiation.pk,
    )
    assert reservation.expires_at == negotiation.expires_at
    assert held(deal.availability) == (Decimal("8500.000"), Decimal("8500.000"))
    event = trade_events(events.NEGOTIATION_OFFER_MADE).get()
    assert (event.payload["offer"]["quantity_kg"], event.payload["offer"]["price"], event.payload["next_side"]) == (
        "8500.000",
        "60000.00",
        "SELLER",
    )


@pytest.mark.django_db
def test_a_counter_offer_counters_the_last_and_moves_the_reservation(deal):
    negotiation = start(deal)
    first = offer(negotiation, deal.buyer.owner, price=Decimal("59000"))

    counter = offer(negotiation, deal.seller.owner, quantity=Decimal("60"), price=Decimal("61000"))

    first.refresh_from_db()
    assert (first.status, counter.status, counter.round, counter.side) == ("COUNTERED", "OPEN", 2, "SELLER")
    assert held(deal.availability) == (Decimal("6800.000"), Decimal("10200.000"))
    assert Reservation.objects.get().quantity_kg == Decimal("10200.000")
    negotiation.refresh_from_db()
    assert negotiation.next_side == "BUYER"


@pytest.mark.django_db
def test_offering_twice_in_a_row_is_not_your_turn(deal):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: offer(negotiation, deal.buyer.owner, price=Decimal("59500")))

    assert (error.code, error.status) == ("not_your_turn", 409)
    assert before.unchanged()


@pytest.mark.parametrize(
    ("overrides", "code", "attr"),
    [
        ({"price": Decimal("0")}, "price_invalid", "price"),
        ({"quantity": Decimal("0")}, "quantity_invalid", "quantity"),
        ({"quantity": Decimal("250")}, "above_buyer_max", "quantity"),
        ({"price_unit": "FURLONG"}, "unknown_unit", "price_unit"),
        (
            {"delivery_until": (timezone.localdate() - timedelta(days=1)).isoformat()},
            "window_invalid",
            "delivery_until",
        ),
    ],
)
@pytest.mark.django_db
def test_an_invalid_offer_is_refused_with_the_field_and_nothing_written(deal, overrides, code, attr):
    negotiation = start(deal)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: offer(negotiation, deal.buyer.owner, **overrides))

    assert (error.code, error.status) == ("offer_invalid", 400)
    assert {"attr": attr, "code": code} in [{"attr": e["attr"], "code": e["code"]} for e in error.errors]
    assert before.unchanged()


@pytest.mark.django_db
def test_every_field_error_of_an_offer_is_answered_at_once(deal):
    negotiation = start(deal)

    error = refused(lambda: offer(negotiation, deal.buyer.owner, price=Decimal("0"), quantity="many", delivery_from=""))

    assert sorted(e["attr"] for e in error.errors) == ["delivery_from", "price", "quantity"]


@pytest.mark.parametrize(
    ("quantity", "code", "status"),
    [("101", "insufficient_quantity", 409), ("5", "below_minimum_order", 400)],
)
@pytest.mark.django_db
def test_an_offer_beyond_the_available_or_below_the_minimum_order_is_refused(deal, quantity, code, status):
    deal.requirement.max_kg = Decimal("100000")
    deal.requirement.max_quantity = Decimal("600")
    deal.requirement.save(update_fields=["max_kg", "max_quantity"])
    negotiation = start(deal)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: offer(negotiation, deal.buyer.owner, quantity=Decimal(quantity)))

    assert (error.code, error.status) == (code, status)
    assert before.unchanged()


@pytest.mark.django_db
def test_a_third_partner_cannot_offer(deal, third_partner):
    negotiation = start(deal)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: offer(negotiation, third_partner.owner))

    assert (error.code, error.status) == ("not_a_party", 403)
    assert before.unchanged()


@pytest.mark.django_db
def test_an_expired_negotiation_takes_no_offer_even_before_the_job_runs(deal):
    negotiation = start(deal)
    Negotiation.objects.filter(pk=negotiation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: offer(negotiation, deal.buyer.owner))

    assert (error.code, error.extra["status"]) == ("negotiation_closed", "EXPIRED")
    assert before.unchanged()


@pytest.mark.django_db
def test_the_rounds_stop_at_the_organizations_maximum(deal):
    TradesSettings.objects.create(organization_id=deal.seller.organization_id, max_rounds=2)
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    offer(negotiation, deal.seller.owner)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: offer(negotiation, deal.buyer.owner))

    assert error.code == "max_rounds_reached"
    assert before.unchanged()


# --- reject, cancel, expiry -------------------------------------------------------------------------


@pytest.mark.django_db
def test_rejecting_the_other_sides_offer_releases_the_quantity(deal):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)

    services.negotiation_reject(actor=deal.seller.owner, negotiation_id=negotiation.pk, reason="Price too low")

    negotiation.refresh_from_db()
    assert (negotiation.status, negotiation.close_reason, negotiation.closed_by_id) == (
        "REJECTED",
        "Price too low",
        deal.seller.owner.pk,
    )
    assert held(deal.availability) == (Decimal("17000.000"), Decimal("0.000"))
    assert Reservation.objects.get().status == "RELEASED"
    assert Offer.objects.get().status == "CLOSED"
    assert trade_events(events.NEGOTIATION_REJECTED).get().payload["side"] == "SELLER"


@pytest.mark.django_db
def test_a_party_rejects_the_other_sides_offer_not_its_own(deal):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    before = Snapshot(negotiation, deal.availability)

    error = refused(lambda: services.negotiation_reject(actor=deal.buyer.owner, negotiation_id=negotiation.pk))

    assert error.code == "own_offer"
    assert before.unchanged()


@pytest.mark.django_db
def test_cancelling_releases_and_a_closed_negotiation_takes_nothing_more(deal):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)

    services.negotiation_cancel(actor=deal.buyer.owner, negotiation_id=negotiation.pk, reason="Bought elsewhere")

    assert held(deal.availability) == (Decimal("17000.000"), Decimal("0.000"))
    before = Snapshot(negotiation, deal.availability)
    for call in (
        lambda: offer(negotiation, deal.seller.owner),
        lambda: services.negotiation_cancel(actor=deal.seller.owner, negotiation_id=negotiation.pk),
        lambda: services.negotiation_message_post(actor=deal.seller.owner, negotiation_id=negotiation.pk, body="Hi"),
    ):
        error = refused(call)
        assert (error.code, error.extra["status"]) == ("negotiation_closed", "CANCELLED")
    assert before.unchanged()


@pytest.mark.django_db
def test_the_expiry_job_expires_idle_negotiations_once(deal):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    later = timezone.now() + timedelta(hours=49)

    assert services.negotiations_expire_due(now=later) == 1
    assert services.negotiations_expire_due(now=later) == 0

    negotiation.refresh_from_db()
    assert negotiation.status == "EXPIRED"
    assert held(deal.availability) == (Decimal("17000.000"), Decimal("0.000"))
    assert trade_events(events.NEGOTIATION_EXPIRED).count() == 1


@pytest.mark.django_db
def test_an_offer_moves_the_expiry_on(deal):
    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)
    negotiation.refresh_from_db()

    assert services.negotiations_expire_due(now=negotiation.expires_at - timedelta(minutes=1)) == 0
    assert services.negotiations_expire_due(now=negotiation.expires_at) == 1


def test_the_beat_runs_the_negotiation_expiry_every_minute(settings):
    entry = settings.PERIODIC_TASKS["trades.expire_negotiations"]
    assert (entry["task"], entry["every_seconds"]) == ("apps.trades.tasks.expire_negotiations", 60)


# --- messages ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_parties_exchange_messages_and_each_is_an_event(deal):
    negotiation = start(deal)

    message = services.negotiation_message_post(
        actor=deal.seller.owner, negotiation_id=negotiation.pk, body="  Can load on Monday.  "
    )

    assert (message.kind, message.side, message.author_id, message.body) == (
        "PARTY",
        "SELLER",
        deal.seller.owner.pk,
        "Can load on Monday.",
    )
    event = trade_events(events.NEGOTIATION_MESSAGE_POSTED).get()
    assert event.payload["message"] == {"id": str(message.pk), "side": "SELLER", "body": "Can load on Monday."}


@pytest.mark.django_db
def test_an_empty_message_or_one_from_a_stranger_is_refused(deal, third_partner):
    negotiation = start(deal)
    before = Snapshot(negotiation, deal.availability)

    empty = refused(
        lambda: services.negotiation_message_post(actor=deal.buyer.owner, negotiation_id=negotiation.pk, body=" ")
    )
    stranger = refused(
        lambda: services.negotiation_message_post(actor=third_partner.owner, negotiation_id=negotiation.pk, body="Hi")
    )

    assert (empty.code, stranger.code) == ("message_invalid", "not_a_party")
    assert before.unchanged()


@pytest.mark.django_db
def test_offer_data_round_trips_through_the_payload(deal):
    negotiation = start(deal)
    made = offer(negotiation, deal.buyer.owner)
    assert services.offer_payload(made)["delivery_until"] == offer_data()["delivery_until"].isoformat()

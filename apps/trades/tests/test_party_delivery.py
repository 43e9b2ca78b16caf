"""Both sides of a negotiation or a trade get its events where a partner's integration reads
them: its feed (`GET /api/v1/events/`) and its webhooks. The events name no single partner (they
concern two), so they carry both in `parties`; a third partner of the same organization and a
partner of another organization get nothing."""

from __future__ import annotations

from typing import Any

import pytest

from apps.events.envelope import EventEnvelope
from apps.events.models import OutboxEvent
from apps.events.selectors import events_visible_to
from apps.events.tests.conftest import wait_until_final
from apps.trades.tests.factories import offer, start
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services.deliveries import deliveries_create_for_event
from apps.webhooks.tests.factories import WebhookEndpointFactory

# One xdist worker runs, one after the other, the tests that hold a long transaction (the sweeps'
# seeded world) and those that wait for the feed's visibility horizon, which any running
# transaction on the server holds back (`make test` runs with --dist loadgroup).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("outbox_horizon")]


def _endpoint(partner: Any) -> Any:
    return WebhookEndpointFactory(
        organization_id=partner.organization_id, partner_id=partner.pk, event_types=["trades.*"]
    )


def test_a_negotiations_events_name_both_parties_and_reach_both_feeds_and_webhooks(
    deal, third_partner, foreign_partner
):
    endpoints = {name: _endpoint(p) for name, p in (("buyer", deal.buyer), ("seller", deal.seller))}
    bystanders = [_endpoint(third_partner), _endpoint(foreign_partner)]

    negotiation = start(deal)
    offer(negotiation, deal.buyer.owner)

    events = list(OutboxEvent.objects.filter(type__startswith="trades.negotiation.").order_by("position"))
    assert [e.type for e in events] == ["trades.negotiation.started", "trades.negotiation.offer_made"]
    assert all(e.partner_id is None for e in events)
    assert all(e.parties == [deal.buyer.pk, deal.seller.pk] for e in events)

    for event in events:
        deliveries_create_for_event(EventEnvelope.from_row(event))
    delivered = WebhookDelivery.objects.values_list("endpoint_id", "event_type")
    assert sorted(delivered) == sorted((endpoint.pk, event.type) for endpoint in endpoints.values() for event in events)
    assert not WebhookDelivery.objects.filter(endpoint__in=bystanders).exists()

    # The feed: both parties' users read them; a third partner's and another organization's not.
    wait_until_final(*events)
    ids = {e.pk for e in events}
    for party in (deal.buyer, deal.seller):
        assert ids <= set(events_visible_to(party.owner).values_list("pk", flat=True))
    for outsider in (third_partner, foreign_partner):
        assert not ids & set(events_visible_to(outsider.owner).values_list("pk", flat=True))


def test_the_feed_of_a_party_through_the_api_lists_the_negotiation(deal, third_partner, authenticate):
    negotiation = start(deal)
    wait_until_final(*OutboxEvent.objects.filter(type="trades.negotiation.started"))

    for user, expected in ((deal.seller.owner, True), (third_partner.owner, False)):
        response = authenticate(user).get("/api/v1/events/")
        assert response.status_code == 200
        types = {(row["type"], row["aggregate_id"]) for row in response.json()["results"]}
        assert (("trades.negotiation.started", str(negotiation.pk)) in types) is expected

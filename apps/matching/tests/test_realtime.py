"""Live proposals: each side's `matching.match.proposed` reaches its own partner group (and the
organization's staff), never the other side's, and carries no counterparty identity."""

from __future__ import annotations

import json

import pytest

from apps.events.envelope import EventEnvelope
from apps.events.models import OutboxEvent
from apps.matching.services.proposals import requirement_match
from apps.matching.tests.test_engine import need, offer
from apps.realtime.fanout import messages_for

pytestmark = pytest.mark.django_db


def test_each_side_hears_its_proposal_on_its_partner_group_without_the_counterparty(cotton, buyer, seller):
    lot = offer(seller, cotton)
    requirement = need(buyer, cotton)
    requirement_match(requirement_id=requirement.pk)

    heard: dict[str, list[str]] = {}
    for row in OutboxEvent.objects.filter(type="matching.match.proposed"):
        for group, message in messages_for(EventEnvelope.from_row(row)):
            heard.setdefault(group, []).append(json.dumps(message, default=str))

    organization = f"org.{buyer.organization_id}"
    assert set(heard) == {f"partner.{buyer.pk}", f"partner.{seller.pk}", organization}
    assert len(heard[organization]) == 2
    (to_buyer,), (to_seller,) = heard[f"partner.{buyer.pk}"], heard[f"partner.{seller.pk}"]
    for secret in (str(seller.pk), seller.legal_name, seller.code, seller.pan, str(lot.pk)):
        assert secret not in to_buyer
    for secret in (str(buyer.pk), buyer.legal_name, buyer.code, buyer.pan, str(requirement.pk)):
        assert secret not in to_seller


def test_a_partners_webhook_endpoint_receives_its_own_sides_proposal_only(cotton, buyer, seller):
    from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
    from apps.webhooks.services.deliveries import deliveries_create_for_event

    endpoints = {
        partner.pk: WebhookEndpoint.objects.create(
            organization_id=partner.organization_id,
            partner_id=partner.pk,
            url=f"https://hooks.example/{partner.code}",
            event_types=["matching.*"],
            secret="whsec_test",
        )
        for partner in (buyer, seller)
    }
    lot = offer(seller, cotton)
    requirement_match(requirement_id=need(buyer, cotton).pk)

    for row in OutboxEvent.objects.filter(type="matching.match.proposed"):
        deliveries_create_for_event(EventEnvelope.from_row(row))

    to_buyer = WebhookDelivery.objects.get(endpoint=endpoints[buyer.pk])
    to_seller = WebhookDelivery.objects.get(endpoint=endpoints[seller.pk])
    assert json.loads(to_buyer.body)["payload"]["side"] == "buyer"
    assert json.loads(to_seller.body)["payload"]["side"] == "seller"
    for secret in (str(seller.pk), seller.legal_name, str(lot.pk)):
        assert secret not in to_buyer.body
    for secret in (str(buyer.pk), buyer.legal_name):
        assert secret not in to_seller.body

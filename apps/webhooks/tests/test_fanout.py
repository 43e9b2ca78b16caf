"""From a real emitted event through the outbox relay to the endpoints that subscribe to it."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from apps.events.emit import emit
from apps.events.envelope import EventEnvelope
from apps.events.models import EventStatus, HandlerRun, OutboxEvent
from apps.events.registry import handlers_for
from apps.events.relay import relay_batch
from apps.organizations.services.organizations import organization_update
from apps.webhooks.models import DeliveryStatus, WebhookDelivery
from apps.webhooks.services.deliveries import deliveries_create_for_event, delivery_attempt
from apps.webhooks.tests.factories import WebhookEndpointFactory


# The relay claims with the database clock (`now()`), which inside a test's wrapping
# transaction stays at its start: this test commits for real.
@pytest.mark.django_db(transaction=True)
def test_an_organization_event_reaches_matching_endpoints_only_and_once(organization, other_organization, receiver):
    matching = WebhookEndpointFactory(
        organization_id=organization.id, url=receiver.url(), event_types=["organizations.*"]
    )
    not_subscribed = WebhookEndpointFactory(organization_id=organization.id, event_types=["tradedesk.*"])
    disabled = WebhookEndpointFactory(organization_id=organization.id, event_types=["*"], is_active=False)
    other_organizations = WebhookEndpointFactory(organization_id=other_organization.id, event_types=["*"])

    organization_update(organization_id=organization.id, name="Renamed Trading House")
    result = relay_batch()

    assert (result.claimed, result.delivered, result.errors) == (1, 1, {})
    event = OutboxEvent.objects.get(type="organizations.organization.updated")
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.endpoint_id, delivery.event_id, delivery.status) == (matching.id, event.id, "PENDING")
    assert not WebhookDelivery.objects.filter(endpoint__in=[not_subscribed, disabled, other_organizations]).exists()

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert outcome.status == DeliveryStatus.SUCCEEDED
    (request,) = receiver.requests
    body = request.verify(matching.secret)
    assert (body["id"], body["type"], body["organization"]) == (
        str(event.id),
        "organizations.organization.updated",
        str(organization.id),
    )
    assert body["payload"]["changed"] == {"name": [organization.name, "Renamed Trading House"]}

    # Delivered again (at least once: the processed marker was lost), the event adds nothing.
    HandlerRun.objects.filter(event=event).delete()
    OutboxEvent.objects.filter(pk=event.pk).update(status=EventStatus.PENDING, attempts=0)
    again = relay_batch()

    assert (again.claimed, again.delivered) == (1, 1)
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_partner_event_reaches_that_partners_endpoints_and_the_organizations(organization):
    """The fan-out handler as the relay calls it (the relay itself is exercised above)."""
    partner, other_partner = uuid.uuid4(), uuid.uuid4()
    organization_wide = WebhookEndpointFactory(organization_id=organization.id, event_types=["tests.*"])
    partners = WebhookEndpointFactory(organization_id=organization.id, partner_id=partner, event_types=["*"])
    other_partners = WebhookEndpointFactory(
        organization_id=organization.id, partner_id=other_partner, event_types=["*"]
    )
    with transaction.atomic():
        partner_event = emit(
            "tests.widget.created",
            aggregate_type="tests.widget",
            aggregate_id="w-1",
            organization_id=organization.id,
            partner_id=partner,
            payload={"widget": "w-1"},
        )
        organization_event = emit(
            "tests.widget.created",
            aggregate_type="tests.widget",
            aggregate_id="w-2",
            organization_id=organization.id,
            payload={"widget": "w-2"},
        )

    with transaction.atomic():
        for event in (partner_event, organization_event):
            deliveries_create_for_event(EventEnvelope.from_row(event))

    delivered = set(WebhookDelivery.objects.values_list("event_id", "endpoint_id"))
    assert delivered == {
        (partner_event.id, organization_wide.id),
        (partner_event.id, partners.id),
        (organization_event.id, organization_wide.id),
    }
    assert not WebhookDelivery.objects.filter(endpoint=other_partners).exists()


@pytest.mark.django_db
def test_events_without_an_organization_and_unsubscribed_types_create_nothing(organization, emit_test_event):
    WebhookEndpointFactory(organization_id=organization.id, event_types=["organizations.organization.updated"])

    with transaction.atomic():
        deliveries_create_for_event(emit_test_event(organization.id, event_type="organizations.organization.created"))
        deliveries_create_for_event(emit_test_event(None, event_type="organizations.organization.updated"))

    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_handling_the_same_event_twice_creates_one_delivery(endpoint, emit_test_event):
    envelope = emit_test_event(endpoint.organization_id)

    with transaction.atomic():
        deliveries_create_for_event(envelope)
        deliveries_create_for_event(envelope)

    assert WebhookDelivery.objects.filter(event_id=envelope.id).count() == 1


def test_the_fanout_handler_is_registered_for_every_event():
    assert [h.name for h in handlers_for("anything.at.all") if h.name == "webhooks.fanout"] == ["webhooks.fanout"]

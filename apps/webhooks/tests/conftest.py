from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.roles import Role
from apps.accounts.tests.factories import UserFactory
from apps.events.emit import emit
from apps.events.envelope import EventEnvelope
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.ownership import register_partner_resolver
from apps.webhooks.services.deliveries import deliveries_create_for_event
from apps.webhooks.tests.factories import WebhookEndpointFactory
from apps.webhooks.tests.receiver import Receiver

TEST_EVENT = "tests.widget.created"


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> None:
    """Tests deliver to a receiver on 127.0.0.1; nothing else private is allowed."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture(autouse=True)
def _no_partner_resolver() -> Iterator[None]:
    register_partner_resolver(None)
    yield
    register_partner_resolver(None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(organization: Any, receiver: Receiver) -> Any:
    return WebhookEndpointFactory(organization_id=organization.id, url=receiver.url())


@pytest.fixture
def org_admin(organization: Any) -> Any:
    """Staff with the organization_admin role (whose permissions include managing webhooks)."""
    user: Any = UserFactory(organization=organization)
    user.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    return user


@pytest.fixture
def emit_test_event() -> Callable[..., EventEnvelope]:
    """Emit a test-only event in its own transaction block; returns its envelope."""

    def _emit(organization_id: Any, *, event_type: str = TEST_EVENT, partner_id: Any = None) -> EventEnvelope:
        with transaction.atomic():
            event = emit(
                event_type,
                aggregate_type="tests.widget",
                aggregate_id="widget-1",
                organization_id=organization_id,
                partner_id=partner_id,
                payload={"widget": "widget-1", "colour": "blue"},
            )
        return EventEnvelope.from_row(event)

    return _emit


@pytest.fixture
def make_delivery(emit_test_event: Callable[..., EventEnvelope]) -> Callable[..., WebhookDelivery]:
    """A pending delivery of a freshly emitted test event to `endpoint` (the fan-out handler run
    directly, as the relay would)."""

    def _make(endpoint: Any, *, event_type: str = TEST_EVENT) -> WebhookDelivery:
        envelope = emit_test_event(endpoint.organization_id, event_type=event_type, partner_id=endpoint.partner_id)
        with transaction.atomic():
            deliveries_create_for_event(envelope)
        return WebhookDelivery.objects.get(event_id=envelope.id, endpoint=endpoint)

    return _make

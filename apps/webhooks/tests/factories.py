import uuid

import factory

from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.signing import new_secret


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An organization endpoint subscribed to everything. Pass `url=receiver.url()`."""

    class Meta:
        model = WebhookEndpoint

    organization_id = factory.LazyFunction(uuid.uuid4)
    partner_id = None
    url = "http://127.0.0.1:9/hooks"
    description = ""
    event_types = factory.LazyFunction(lambda: ["*"])
    is_active = True
    secret = factory.LazyFunction(new_secret)

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from apps.events.registry import register_handler
        from apps.webhooks.services.deliveries import deliveries_create_for_event

        # The handler name is the idempotency key of its processed markers: keep it stable.
        register_handler("*", deliveries_create_for_event, name="webhooks.fanout")

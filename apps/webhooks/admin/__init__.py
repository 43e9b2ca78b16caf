"""Back office for webhooks, one module per screen (imported here so the admin registers them):
endpoints (never their secrets) and deliveries with attempts and replay."""

from apps.webhooks.admin import deliveries, endpoints

__all__ = ["deliveries", "endpoints"]

"""The trade-desk back office, one module per screen (imported here so the admin registers them)."""

from apps.tradedesk.admin import availabilities, requirements

__all__ = ["availabilities", "requirements"]

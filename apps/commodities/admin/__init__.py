"""The back office of the global masters, one module per screen (imported here so the admin registers
them)."""

from apps.commodities.admin import commissions, commodities, schedules, terms, units

__all__ = ["commissions", "commodities", "schedules", "terms", "units"]

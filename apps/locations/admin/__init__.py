"""The locations back office, one module per screen (imported here so the admin registers them)."""

from apps.locations.admin import locations

__all__ = ["locations"]

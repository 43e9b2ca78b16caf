"""The matching back office, one module per screen (imported here so the admin registers them)."""

from apps.matching.admin import proposals

__all__ = ["proposals"]

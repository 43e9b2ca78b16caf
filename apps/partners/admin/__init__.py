"""The partners back office, one module per screen (imported here so the admin registers them)."""

from apps.partners.admin import applications, partners

__all__ = ["applications", "partners"]

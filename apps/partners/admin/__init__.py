"""The partners back office, one module per screen (imported here so the admin registers them)."""

from apps.partners.admin import amendments, applications, groups, partners

__all__ = ["amendments", "applications", "groups", "partners"]

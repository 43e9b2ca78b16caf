"""The organizations back office, one module per screen (imported here so the admin registers them)."""

from apps.organizations.admin import organizations

__all__ = ["organizations"]

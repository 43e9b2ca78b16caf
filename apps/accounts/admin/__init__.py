"""The accounts back office, one module per screen (imported here so the admin registers them)."""

from apps.accounts.admin import otp, users

__all__ = ["otp", "users"]

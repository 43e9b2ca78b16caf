"""The trades back office, one module per screen (imported here so the admin registers them)."""

from apps.trades.admin import negotiations, trades

__all__ = ["negotiations", "trades"]

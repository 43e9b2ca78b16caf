"""The outbox back office, one module per screen (imported here so the admin registers them)."""

from apps.events.admin import events

__all__ = ["events"]

"""The event backbone: `from apps.events.emit import emit` inside a service's transaction."""

"""Outbox use cases, one module per aggregate (`services/events.py`: back-office operations on
outbox events). Writing events is `apps.events.emit`; relaying them is `apps.events.relay`."""

"""The domain answers this app gives lower apps (ARCHITECTURE section 3): who hears negotiation and
trade events live (realtime.py). Registered from `AppConfig.ready()`."""

from __future__ import annotations


def register_resolvers() -> None:
    from apps.trades.realtime import register_realtime

    register_realtime()

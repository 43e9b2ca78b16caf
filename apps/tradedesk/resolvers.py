"""The domain answers this app gives lower apps (ARCHITECTURE section 3): how many open postings
refer to a location (locations' deactivation guard), and who hears the postings' events live
(realtime.py: the market topics and their anonymised payloads). Registered from
`AppConfig.ready()`."""

from __future__ import annotations


def register_resolvers() -> None:
    from apps.locations.references import register_location_reference
    from apps.tradedesk import selectors
    from apps.tradedesk.realtime import register_realtime

    register_location_reference("tradedesk.requirement", selectors.requirements_at_location_count)
    register_location_reference("tradedesk.availability", selectors.availabilities_at_location_count)
    register_realtime()

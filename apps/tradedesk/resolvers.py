"""The domain answers this app gives lower apps (ARCHITECTURE section 3): how many open postings
refer to a location (locations' deactivation guard). Registered from `AppConfig.ready()`."""

from __future__ import annotations


def register_resolvers() -> None:
    from apps.locations.references import register_location_reference
    from apps.tradedesk import selectors

    register_location_reference("tradedesk.requirement", selectors.requirements_at_location_count)
    register_location_reference("tradedesk.availability", selectors.availabilities_at_location_count)

"""The domain answers this app gives lower apps (ARCHITECTURE section 3): which partner a user
belongs to (accounts' /me, the event feed, webhook ownership, realtime audiences) and how many
active branches stand at a location (locations' deactivation guard)."""

from __future__ import annotations


def register_resolvers() -> None:
    from apps.accounts.selectors import register_partner_resolver as register_me_resolver
    from apps.events.selectors import register_feed_partner_resolver
    from apps.locations.references import register_location_reference
    from apps.partners import selectors
    from apps.realtime.audience import register_partner_resolver as register_realtime_resolver
    from apps.webhooks.ownership import register_partner_resolver as register_webhook_resolver

    register_me_resolver(selectors.partner_summary_of)
    register_feed_partner_resolver(selectors.partner_id_of)
    register_webhook_resolver(selectors.partner_id_of)
    register_realtime_resolver(selectors.partner_id_of)
    register_location_reference("partners.branch", selectors.branches_at_location_count)

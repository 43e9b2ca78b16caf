"""Event types of the matching app (SPEC section 12). Each is emitted once per side of a
proposal, with `partner_id` that side and a payload that never names the counterparty."""

MATCH_PROPOSED = "matching.match.proposed"
MATCH_UPDATED = "matching.match.updated"
MATCH_WITHDRAWN = "matching.match.withdrawn"

"""Who may do what in matching: the role capabilities of the back office.

Every staff role reads proposals (the admin's Matches screen shows both sides); the desk and
organization admins maintain the matching settings and the commodities' weights. accounts.roles
registers this at ready().
"""

from __future__ import annotations

from apps.accounts.roles import Role

_VIEW_MATCHING = ["matching.view_matchproposal", "matching.view_matchingweights", "matching.view_matchingsettings"]
_RUN_MATCHING = [
    *_VIEW_MATCHING,
    "matching.add_matchingweights",
    "matching.change_matchingweights",
    "matching.add_matchingsettings",
    "matching.change_matchingsettings",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ORGANIZATION_ADMIN: _RUN_MATCHING,
    Role.DESK_MANAGER: _RUN_MATCHING,
    Role.RISK_OFFICER: _VIEW_MATCHING,
    Role.KYC_OFFICER: ["matching.view_matchproposal"],
}

"""Who may do what on the trade desk.

- Posting (create, update, submit, publish, cancel) for a partner: its members holding the
  `partners.trade_for_partner` object permission (owner, trader), or staff of its organization
  with the model capability (`tradedesk.add_availability` / `tradedesk.add_requirement`) keying
  for it. Either way the partner itself must be allowed to trade now: ACTIVE, KYC valid, and the
  sell (availability) or buy (requirement) capability (`partners.capability_rules.trading_refusal`).
- Approving or rejecting an availability: staff of its organization with
  `tradedesk.approve_availability` (desk managers).
- Reading: `selectors` scope every lookup (outside scope: 404).
"""

from __future__ import annotations

from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import PermissionDenied
from apps.partners.capability_rules import trading_refusal
from apps.partners.models import BusinessPartner
from apps.partners.permissions import TRADE_FOR_PARTNER, ensure_partner_permission, is_staff_of
from apps.tradedesk.errors import AvailabilityNotFound, PostingRefused
from apps.tradedesk.models import Availability

# What each staff role may do on the trade desk (accounts.roles registers it at ready()).
_VIEW_TRADEDESK = ["tradedesk.view_availability", "tradedesk.view_requirement", "tradedesk.view_reservation"]
_RUN_THE_DESK = [
    *_VIEW_TRADEDESK,
    "tradedesk.add_availability",
    "tradedesk.change_availability",
    "tradedesk.approve_availability",
    "tradedesk.add_requirement",
    "tradedesk.change_requirement",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ORGANIZATION_ADMIN: _RUN_THE_DESK,
    Role.DESK_MANAGER: _RUN_THE_DESK,
    Role.RISK_OFFICER: _VIEW_TRADEDESK,
}

SELL = "sell"
BUY = "buy"
STAFF_POSTING_PERMISSION = {SELL: "tradedesk.add_availability", BUY: "tradedesk.add_requirement"}
APPROVE_AVAILABILITY = "tradedesk.approve_availability"


def ensure_partner_may_trade(partner: BusinessPartner, capability: str) -> None:
    """403 partner_not_active / kyc_not_valid / capability_missing, or nothing."""
    reason = trading_refusal(partner, capability, today=timezone.localdate())
    if reason is not None:
        raise PostingRefused(reason, capability=capability)


def ensure_can_post(actor: User, partner: BusinessPartner, capability: str) -> None:
    """The actor may post for the partner, and the partner may trade that side now."""
    ensure_partner_permission(
        actor, partner, partner_perm=TRADE_FOR_PARTNER, staff_perm=STAFF_POSTING_PERMISSION[capability]
    )
    ensure_partner_may_trade(partner, capability)


def ensure_can_approve_availability(actor: User, availability: Availability) -> None:
    if not is_staff_of(actor, availability.organization_id):
        raise AvailabilityNotFound()
    if not actor.has_perm(APPROVE_AVAILABILITY):
        raise PermissionDenied(f"Approving availabilities needs the {APPROVE_AVAILABILITY} capability.")

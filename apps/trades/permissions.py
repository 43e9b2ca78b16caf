"""Who may do what in negotiations and trades.

- A party's side: an EXTERNAL user who is an active member of the buyer or the seller and holds
  `partners.trade_for_partner` on it (owner, trader) acts for that side. A member without it (a
  viewer) may read but not act (403). Staff of the organization act for a side only on its
  behalf (`on_behalf_of`, the partner's id) and with `trades.negotiate_for_partner`
  (negotiations) or `trades.manage_trade` (trades).
- The desk's own steps (settle a dispute, complete, cancel with a reason): staff of the
  organization with `trades.manage_trade`.
- A party must be allowed to trade now (ACTIVE, KYC valid, the buy or sell capability) to start,
  offer or accept (`ensure_side_may_trade`); existing trades continue whatever its KYC.
- Reading: `selectors` scope every lookup (outside scope 404), so these checks run on objects
  the caller may already see.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import PermissionDenied
from apps.partners.capability_rules import trading_refusal
from apps.partners.models import BusinessPartner
from apps.partners.permissions import TRADE_FOR_PARTNER, ensure_partner_writable, is_member_of, is_staff_of
from apps.trades.errors import NotAParty, PartnerMayNotTrade
from apps.trades.models import Side

# What each staff role may do with negotiations and trades (accounts.roles registers it at ready()).
_VIEW_TRADES = ["trades.view_negotiation", "trades.view_trade", "trades.view_tradeamendment"]
_RUN_TRADES = [*_VIEW_TRADES, "trades.negotiate_for_partner", "trades.manage_trade", "trades.change_tradessettings"]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ORGANIZATION_ADMIN: _RUN_TRADES,
    Role.DESK_MANAGER: _RUN_TRADES,
    Role.RISK_OFFICER: _VIEW_TRADES,
}

NEGOTIATE_FOR_PARTNER = "trades.negotiate_for_partner"
MANAGE_TRADE = "trades.manage_trade"
CAPABILITY_OF_SIDE = {Side.BUYER: "buy", Side.SELLER: "sell"}


def _member_side(actor: User, buyer: BusinessPartner, seller: BusinessPartner) -> tuple[str, BusinessPartner] | None:
    for side, partner in ((Side.BUYER, buyer), (Side.SELLER, seller)):
        if is_member_of(actor, partner):
            return side, partner
    return None


def acting_side(
    actor: User,
    *,
    organization_id: Any,
    buyer: BusinessPartner,
    seller: BusinessPartner,
    staff_perm: str,
    on_behalf_of: UUID | None = None,
) -> str:
    """The side `actor` acts for. Staff: the side of `on_behalf_of` (400 not_a_party without one
    or for another partner), with `staff_perm` (403). Members: their partner's side, with the
    trade right (403) on a writable partner (403 partner_suspended / partner_blocked). Anyone
    else 403 not_a_party (selectors answer 404 before this for users outside the scope)."""
    if is_staff_of(actor, organization_id):
        if not actor.has_perm(staff_perm):
            raise PermissionDenied(f"Acting for a party needs the {staff_perm} capability.")
        if on_behalf_of is not None and str(on_behalf_of) == str(buyer.pk):
            return Side.BUYER
        if on_behalf_of is not None and str(on_behalf_of) == str(seller.pk):
            return Side.SELLER
        error = NotAParty("The desk acts on behalf of the buyer or the seller: name it in on_behalf_of.")
        error.status = 400
        raise error
    found = _member_side(actor, buyer, seller)
    if found is None:
        raise NotAParty()
    side, partner = found
    if not actor.has_perm(TRADE_FOR_PARTNER, partner):
        raise PermissionDenied(f"Your role at {partner.code} does not allow trading ({TRADE_FOR_PARTNER}).")
    ensure_partner_writable(partner)
    return side


def ensure_side_may_trade(partner: BusinessPartner, side: str) -> None:
    """403 with the reason (partner_not_active, kyc_not_valid, capability_missing) or nothing."""
    capability = CAPABILITY_OF_SIDE[Side(side)]
    reason = trading_refusal(partner, capability, today=timezone.localdate())
    if reason is not None:
        raise PartnerMayNotTrade(
            f"{partner.code} may not {capability} now ({reason}).",
            code=reason,
            extra={"partner_id": str(partner.pk), "capability": capability},
        )


def ensure_desk(actor: User, organization_id: Any, perm: str = MANAGE_TRADE) -> None:
    """Staff of the organization with `perm` (403 otherwise; outsiders are 404 at the lookup)."""
    if not is_staff_of(actor, organization_id):
        raise PermissionDenied("This is a step for the desk.")
    if not actor.has_perm(perm):
        raise PermissionDenied(f"This needs the {perm} capability.")


def is_party_member(actor: User, partner_ids: tuple[Any, ...]) -> bool:
    """An active member (any role) of one of the partners."""
    from apps.partners.models import PartnerMembership

    return bool(
        actor.user_type == "EXTERNAL"
        and PartnerMembership.objects.filter(user_id=actor.pk, partner_id__in=partner_ids, is_active=True).exists()
    )

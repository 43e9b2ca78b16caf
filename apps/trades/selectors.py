"""Reads of negotiations and trades, scoped to the caller: the buyer's and the seller's users,
staff of the organization, platform admins. Anything else answers 404."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from apps.accounts.models import User, UserType
from apps.partners.selectors import partner_id_of
from apps.trades.errors import NegotiationNotFound, TradeNotFound
from apps.trades.models import Negotiation, NegotiationMessage, Offer, Trade, TradeAmendment


def _scope(user: User) -> Q | None:
    """The rows `user` may read, as a filter on organization/buyer/seller; None: none at all."""
    if not user.is_active:
        return None
    if user.user_type == UserType.SUPER_ADMIN:
        return Q()
    if user.user_type == UserType.INTERNAL and user.organization_id:
        return Q(organization_id=user.organization_id)
    if user.user_type == UserType.EXTERNAL:
        partner_id = partner_id_of(user)
        if partner_id is None:
            return None
        return (Q(buyer_id=partner_id) | Q(seller_id=partner_id)) & Q(organization_id=user.organization_id)
    return None


def negotiations_visible_to(user: User, *, status: str | None = None) -> QuerySet[Negotiation]:
    scope = _scope(user)
    if scope is None:
        return Negotiation.objects.none()
    found = Negotiation.objects.filter(scope)
    return found.filter(status=status) if status else found


def negotiation_get(user: User, negotiation_id: UUID) -> Negotiation:
    negotiation = (
        negotiations_visible_to(user).select_related("buyer", "seller", "reservation").filter(pk=negotiation_id).first()
    )
    if negotiation is None:
        raise NegotiationNotFound()
    return negotiation


def offers_of(negotiation: Negotiation) -> QuerySet[Offer]:
    return Offer.objects.filter(negotiation=negotiation).select_related("price_unit", "quantity_unit").order_by("round")


def messages_of(negotiation: Negotiation) -> QuerySet[NegotiationMessage]:
    return NegotiationMessage.objects.filter(negotiation=negotiation).order_by("created_at", "id")


def trades_visible_to(user: User, *, status: str | None = None) -> QuerySet[Trade]:
    scope = _scope(user)
    if scope is None:
        return Trade.objects.none()
    found = Trade.objects.filter(scope)
    return found.filter(status=status) if status else found


def with_trade_details(trades: QuerySet[Trade]) -> QuerySet[Trade]:
    return trades.select_related("quantity_unit", "price_unit", "commodity", "variety")


def trade_get(user: User, trade_id: UUID) -> Trade:
    trade = with_trade_details(trades_visible_to(user)).filter(pk=trade_id).first()
    if trade is None:
        raise TradeNotFound()
    return trade


def amendments_of(trade: Trade) -> QuerySet[TradeAmendment]:
    return TradeAmendment.objects.filter(trade=trade).order_by("created_at", "id")

"""Demo negotiations and trades (seed_demo, after matching's proposals): in each demo
organization, from its best active proposals, one negotiation just started, one in progress
(an offer and a counter-offer), and two trades made by accepting: one CONFIRMED and one shipped
(IN_TRANSIT). Every step goes through the services as the partners' owners, so reservations,
exposure, numbering and events are the real ones. Idempotent: an organization that has
negotiations already is left as it is."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.core.errors import DomainError
from apps.core.seeding import SeedReport
from apps.matching.models import MatchProposal, ProposalStatus
from apps.partners.models import PartnerMembership
from apps.trades.models import Negotiation, Trade
from apps.trades.services import negotiations, trades

PLAN = ("confirmed", "in_transit", "in_progress", "started")


def _owner(partner_id: Any) -> Any:
    membership = (
        PartnerMembership.objects.select_related("user")
        .filter(partner_id=partner_id, role="OWNER", is_active=True)
        .order_by("created_at")
        .first()
    )
    return membership.user if membership else None


def _terms(proposal: MatchProposal) -> dict[str, Any] | None:
    """An offer of what both sides can take: the lot whole if it is sold whole, else the larger
    of its minimum order and 30 bales' worth, within what the buyer still needs."""
    proposal.availability.refresh_from_db()  # an earlier demo trade may have sold some of it
    proposal.requirement.refresh_from_db()
    offer, need = proposal.availability, proposal.requirement
    if offer.status != "ACTIVE" or need.status not in ("ACTIVE", "PARTIALLY_FULFILLED"):
        return None
    remaining = need.max_kg - need.fulfilled_kg
    quantity = offer.available_kg if not offer.partial_allowed else max(offer.min_order_kg, Decimal("5100"))
    quantity = min(quantity, offer.available_kg)
    if quantity <= 0 or quantity > remaining:
        return None
    return {
        "price": offer.price,
        "price_unit": offer.price_unit.code,
        "quantity": quantity,
        "quantity_unit": "KG",
        "delivery_from": need.delivery_from,
        "delivery_until": need.delivery_until,
        "message": "Demo offer",
    }


def _play(proposal: MatchProposal, step: str) -> str:
    buyer, seller = _owner(proposal.buyer_id), _owner(proposal.seller_id)
    terms = _terms(proposal)
    if buyer is None or seller is None or terms is None:
        return "skipped"
    negotiation = negotiations.negotiation_start(actor=buyer, match_token=proposal.token)
    if step == "started":
        return "started"
    negotiations.negotiation_offer_make(
        actor=buyer,
        negotiation_id=negotiation.pk,
        terms=negotiations.OfferTerms(**{**terms, "price": terms["price"] - Decimal("500")}),
    )
    if step == "in_progress":
        negotiations.negotiation_offer_make(
            actor=seller, negotiation_id=negotiation.pk, terms=negotiations.OfferTerms(**terms)
        )
        return "in progress"
    trade = trades.negotiation_accept(actor=seller, negotiation_id=negotiation.pk)
    if step == "in_transit" and trade.status == "CONFIRMED":
        trades.trade_status_change(actor=seller, trade_id=trade.pk, to_status="IN_TRANSIT")
        return f"{trade.number} in transit"
    return f"{trade.number} {trade.status.lower()}"


def seed_trades(report: SeedReport) -> None:
    """Plays the plan once per organization; the report line states what exists (the same line
    on every run: seed_demo's output is compared between runs)."""
    for organization in report.context["organizations"]:
        if not Negotiation.objects.filter(organization=organization).exists():
            _seed_organization(organization)
        trades = Trade.objects.filter(organization=organization).order_by("number")
        open_negotiations = Negotiation.objects.filter(
            organization=organization, status__in=("INITIATED", "IN_PROGRESS")
        )
        listed = ", ".join(f"{t.number} {t.status.lower()}" for t in trades) or "no trades"
        report.lines.append(f"trades: {organization.code} {listed}; {open_negotiations.count()} negotiations open")


def _seed_organization(organization: Any) -> None:
    proposals = list(
        MatchProposal.objects.select_related("availability__price_unit", "requirement")
        .filter(organization=organization, status=ProposalStatus.ACTIVE)
        .order_by("-score", "id")
    )
    plan = list(PLAN)
    for proposal in proposals:
        if not plan:
            return
        try:
            outcome = _play(proposal, plan[0])
        except DomainError:
            continue  # a pair the demo cannot trade now (credit, quantity): try the next
        if outcome != "skipped":
            plan.pop(0)

"""Negotiations and the trades they make (SPEC sections 9 and 10).

- `Negotiation`: a buyer and a seller (revealed to each other at start) bargaining over one
  requirement and one availability, from a match proposal's token. INITIATED -> IN_PROGRESS
  (first offer) -> ACCEPTED | REJECTED | EXPIRED | CANCELLED. The quantity on the table is held
  by an owned trade-desk reservation (`reservation`), moved with every offer.
- `Offer`: one round, strictly alternating sides; earlier offers become COUNTERED.
- `NegotiationMessage`: between the parties, or from the system.
- `Trade`: made by an accepted negotiation, numbered from the organization's TRADE series, with
  snapshots of the parties, their addresses, the goods, the price, terms, commission and GST.
- `TradeAmendment`: a change after CONFIRMED, applied only when the counterparty approves.
- `TradesSettings`: per organization (maximum rounds, inactivity expiry).
- `PartnerTradeProfile`: per partner, what only trades needs (the agriculturist flag behind
  reverse charge).

Money is Decimal to the paisa, quantities Decimal kg to the gram. State fields change only
through `services`. Every model is tracked by django-pghistory.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.audit import tracked
from apps.core.models import BaseModel


def _kg(**options: Any) -> Any:
    return models.DecimalField(max_digits=16, decimal_places=3, **options)


def _money(**options: Any) -> Any:
    return models.DecimalField(max_digits=16, decimal_places=2, **options)


def _per_kg(**options: Any) -> Any:
    return models.DecimalField(max_digits=14, decimal_places=4, **options)


def _factor(**options: Any) -> Any:
    return models.DecimalField(max_digits=20, decimal_places=8, **options)


def _rate(**options: Any) -> Any:
    return models.DecimalField(max_digits=5, decimal_places=2, **options)


class Side(models.TextChoices):
    BUYER = "BUYER", "Buyer"
    SELLER = "SELLER", "Seller"


# --- settings -------------------------------------------------------------------------------------


class TradesSettings(BaseModel):
    """An organization's switches for negotiations (a row is created with the defaults on first use)."""

    organization = models.OneToOneField("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    max_rounds = models.PositiveSmallIntegerField(default=10, help_text="Offers per negotiation, both sides.")
    inactivity_hours = models.PositiveSmallIntegerField(default=48, help_text="Expiry after the last offer.")

    class Meta:
        verbose_name = "trades settings"
        verbose_name_plural = "trades settings"
        constraints = [
            models.CheckConstraint(condition=Q(max_rounds__gte=1), name="trades_settings_rounds_positive"),
            models.CheckConstraint(condition=Q(inactivity_hours__gte=1), name="trades_settings_inactivity_positive"),
        ]

    def __str__(self) -> str:
        return f"trades settings of {self.organization_id}"


@tracked()
class PartnerTradeProfile(BaseModel):
    """What trades keeps per partner: whether it sells as an agriculturist (its supplies are
    then under reverse charge: the buyer pays the GST)."""

    partner = models.OneToOneField("partners.BusinessPartner", on_delete=models.CASCADE, related_name="+")
    is_agriculturist = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"trade profile of {self.partner_id}"


# --- negotiations ---------------------------------------------------------------------------------


class NegotiationStatus(models.TextChoices):
    INITIATED = "INITIATED", "Initiated"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    ACCEPTED = "ACCEPTED", "Accepted"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"
    CANCELLED = "CANCELLED", "Cancelled"


OPEN_NEGOTIATION_STATES = (NegotiationStatus.INITIATED, NegotiationStatus.IN_PROGRESS)


@tracked()
class Negotiation(BaseModel):
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    match = models.ForeignKey(
        "matching.MatchProposal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The match proposal it started from.",
    )
    requirement = models.ForeignKey("tradedesk.Requirement", on_delete=models.PROTECT, related_name="+")
    availability = models.ForeignKey("tradedesk.Availability", on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=NegotiationStatus.choices, default=NegotiationStatus.INITIATED)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_for = models.CharField(max_length=6, choices=Side.choices, help_text="The side it was started for.")
    rounds = models.PositiveSmallIntegerField(default=0)
    max_rounds = models.PositiveSmallIntegerField(help_text="From the organization's settings at start.")
    next_side = models.CharField(max_length=6, choices=Side.choices, blank=True, help_text="Blank: either side.")
    last_offer_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="Inactivity expiry: the last offer (or the start) plus the setting.")
    reservation = models.ForeignKey(
        "tradedesk.Reservation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "availability"],
                condition=Q(status__in=["INITIATED", "IN_PROGRESS"]),
                name="negotiation_one_open_per_pair",
            ),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="negotiation_parties_differ"),
            models.CheckConstraint(condition=Q(rounds__lte=F("max_rounds")), name="negotiation_rounds_within_max"),
            models.CheckConstraint(
                condition=Q(status__in=["INITIATED", "IN_PROGRESS"]) | Q(closed_at__isnull=False),
                name="negotiation_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="negotiation_expiry_idx"),
            models.Index(fields=["buyer", "-created_at"], name="negotiation_buyer_idx"),
            models.Index(fields=["seller", "-created_at"], name="negotiation_seller_idx"),
            models.Index(fields=["organization", "-created_at", "-id"], name="negotiation_org_recent_idx"),
        ]
        permissions = [("negotiate_for_partner", "Can negotiate on a partner's behalf (the desk)")]

    def __str__(self) -> str:
        return f"negotiation {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_NEGOTIATION_STATES

    def party(self, side: str) -> Any:
        return self.buyer_id if side == Side.BUYER else self.seller_id


class OfferStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    COUNTERED = "COUNTERED", "Countered"
    ACCEPTED = "ACCEPTED", "Accepted"
    CLOSED = "CLOSED", "Closed (negotiation ended)"


@tracked()
class Offer(BaseModel):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="offers")
    round = models.PositiveSmallIntegerField()
    side = models.CharField(max_length=6, choices=Side.choices)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    price = _money()
    price_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    price_unit_factor = _factor()
    price_per_kg = _per_kg()
    currency = models.CharField(max_length=3, default="INR")
    quantity = _kg()
    quantity_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    quantity_unit_factor = _factor()
    quantity_kg = _kg()
    delivery_from = models.DateField()
    delivery_until = models.DateField()
    delivery_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quality_conditions = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "round"], name="offer_round_unique"),
            models.UniqueConstraint(
                fields=["negotiation"], condition=Q(status="OPEN"), name="offer_one_open_per_negotiation"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="offer_price_positive"),
            models.CheckConstraint(condition=Q(quantity_kg__gt=0), name="offer_quantity_positive"),
            models.CheckConstraint(
                condition=Q(delivery_until__gte=F("delivery_from")), name="offer_delivery_window_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"round {self.round} by the {self.side.lower()}"


class MessageKind(models.TextChoices):
    PARTY = "PARTY", "From a party"
    SYSTEM = "SYSTEM", "From the system"


@tracked()
class NegotiationMessage(BaseModel):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=6, choices=MessageKind.choices)
    side = models.CharField(max_length=6, choices=Side.choices, blank=True, help_text="Blank for the system.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(max_length=2000)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="SYSTEM", side="", author__isnull=True) | (Q(kind="PARTY") & ~Q(side="")),
                name="negotiation_message_author_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["negotiation", "created_at"], name="negotiation_message_time_idx")]

    def __str__(self) -> str:
        return f"{self.kind.lower()} message of {self.negotiation_id}"


# --- trades ---------------------------------------------------------------------------------------


class TradeStatus(models.TextChoices):
    PENDING_BRANCH_SELECTION = "PENDING_BRANCH_SELECTION", "Pending branch selection"
    CONFIRMED = "CONFIRMED", "Confirmed"
    IN_TRANSIT = "IN_TRANSIT", "In transit"
    DELIVERED = "DELIVERED", "Delivered"
    COMPLETED = "COMPLETED", "Completed"
    DISPUTED = "DISPUTED", "Disputed"
    CANCELLED = "CANCELLED", "Cancelled"


class TaxKind(models.TextChoices):
    INTRA_STATE = "INTRA_STATE", "Intra-state (CGST + SGST)"
    INTER_STATE = "INTER_STATE", "Inter-state (IGST)"


@tracked()
class Trade(BaseModel):
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, help_text="TR/2026-27/000123, gapless per organization and year.")
    negotiation = models.OneToOneField(Negotiation, on_delete=models.PROTECT, related_name="trade")
    status = models.CharField(max_length=24, choices=TradeStatus.choices)
    status_before_dispute = models.CharField(max_length=24, choices=TradeStatus.choices, blank=True)
    requirement = models.ForeignKey("tradedesk.Requirement", on_delete=models.PROTECT, related_name="+")
    availability = models.ForeignKey("tradedesk.Availability", on_delete=models.PROTECT, related_name="+")
    # Parties, and their details as they stood at creation.
    buyer = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    broker = models.ForeignKey(
        "partners.BusinessPartner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    buyer_snapshot = models.JSONField(default=dict)
    seller_snapshot = models.JSONField(default=dict)
    bill_to_branch = models.ForeignKey(
        "partners.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ship_to_branch = models.ForeignKey(
        "partners.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ship_from_branch = models.ForeignKey(
        "partners.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bill_to = models.JSONField(default=dict, blank=True, help_text="Address snapshot; empty until selected.")
    ship_to = models.JSONField(default=dict, blank=True)
    ship_from = models.JSONField(default=dict, blank=True)
    # The goods.
    commodity = models.ForeignKey("commodities.Commodity", on_delete=models.PROTECT, related_name="+")
    variety = models.ForeignKey(
        "commodities.Variety", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    goods_snapshot = models.JSONField(default=dict, help_text="Commodity code, name, HSN, variety.")
    quality = models.JSONField(default=dict)
    quantity = _kg()
    quantity_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    quantity_unit_factor = _factor()
    quantity_kg = _kg()
    delivered_kg = _kg(default=0)
    # Price and value.
    price = _money()
    price_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    price_unit_factor = _factor()
    price_per_kg = _per_kg()
    currency = models.CharField(max_length=3, default="INR")
    amount = _money(help_text="kg x price per kg, rounded half-up to the paisa once.")
    gst_rate = _rate()
    tax_kind = models.CharField(max_length=12, choices=TaxKind.choices, blank=True)
    place_of_supply = models.CharField(max_length=2, blank=True, help_text="State code (the bill-to state).")
    cgst_rate = _rate(default=0)
    sgst_rate = _rate(default=0)
    igst_rate = _rate(default=0)
    cgst_amount = _money(default=0)
    sgst_amount = _money(default=0)
    igst_amount = _money(default=0)
    tax_amount = _money(default=0)
    total_amount = _money(default=0)
    reverse_charge = models.BooleanField(default=False, help_text="The seller supplies as an agriculturist.")
    # Terms.
    delivery_from = models.DateField()
    delivery_until = models.DateField()
    delivery_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    terms_snapshot = models.JSONField(default=dict, blank=True)
    quality_conditions = models.JSONField(default=dict, blank=True)
    commission = models.JSONField(default=dict, blank=True, help_text="Structure applied and amounts per party.")
    commission_amount = _money(default=0)
    # Closing.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.CharField(max_length=500, blank=True)
    cancel_requested_by = models.CharField(max_length=6, choices=Side.choices, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="trade_number_unique"),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="trade_parties_differ"),
            models.CheckConstraint(condition=Q(quantity_kg__gt=0), name="trade_quantity_positive"),
            models.CheckConstraint(
                condition=Q(delivered_kg__gte=0) & Q(delivered_kg__lte=F("quantity_kg")),
                name="trade_delivered_within_quantity",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="trade_price_positive"),
            models.CheckConstraint(
                condition=Q(total_amount=F("amount") + F("tax_amount")), name="trade_total_is_amount_plus_tax"
            ),
            models.CheckConstraint(
                condition=Q(tax_amount=F("cgst_amount") + F("sgst_amount") + F("igst_amount")),
                name="trade_tax_is_its_lines",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="trade_org_recent_idx"),
            models.Index(fields=["buyer", "-created_at", "-id"], name="trade_buyer_recent_idx"),
            models.Index(fields=["seller", "-created_at", "-id"], name="trade_seller_recent_idx"),
            models.Index(fields=["status"], name="trade_status_idx"),
        ]
        permissions = [("manage_trade", "Can settle disputes, complete and cancel trades (the desk)")]

    def __str__(self) -> str:
        return self.number

    @property
    def undelivered_kg(self) -> Decimal:
        return self.quantity_kg - self.delivered_kg


class AmendmentKind(models.TextChoices):
    PRICE = "PRICE", "Price"
    QUANTITY = "QUANTITY", "Quantity"
    DELIVERY_DATE = "DELIVERY_DATE", "Delivery date"
    ADDRESS = "ADDRESS", "Address"


class AmendmentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"


@tracked()
class TradeAmendment(BaseModel):
    trade = models.ForeignKey(Trade, on_delete=models.CASCADE, related_name="amendments")
    kind = models.CharField(max_length=16, choices=AmendmentKind.choices)
    status = models.CharField(max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by_side = models.CharField(max_length=6, choices=Side.choices)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trade"], condition=Q(status="PENDING"), name="trade_amendment_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind.lower()} amendment of {self.trade_id} ({self.status})"

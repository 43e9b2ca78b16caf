"""The trade desk's postings (SPEC section 7): availabilities (a seller's offer), requirements (a
buyer's need) and reservations of availability quantity. Negotiations and trades join later.

Quantities are kept as entered (value and unit) and in kilograms; prices as entered (per price
unit) and per kilogram. Availability quantities obey `available + reserved + sold = total`, all
non-negative, by check constraints: the services move them with conditional UPDATEs, and the
database refuses anything that would break the invariant even if a service were wrong.

Every model is tracked by django-pghistory. State fields change only through `services`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from apps.core.audit import tracked
from apps.core.models import BaseModel


def _kg(**options: Any) -> Any:
    """Kilograms to the gram (up to 10^13 kg); entered quantities use the same precision."""
    return models.DecimalField(max_digits=16, decimal_places=3, **options)


def _money(**options: Any) -> Any:
    return models.DecimalField(max_digits=16, decimal_places=2, **options)


def _per_kg(**options: Any) -> Any:
    """A price per kg: shown to 2 places, kept to 4 so a candy price converts back exactly enough."""
    return models.DecimalField(max_digits=14, decimal_places=4, **options)


class Visibility(models.TextChoices):
    PUBLIC = "PUBLIC", "Public (the organization's market)"
    RESTRICTED = "RESTRICTED", "Restricted (invited partners only)"
    PRIVATE = "PRIVATE", "Private (the desk only)"


class AvailabilityStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    PENDING_APPROVAL = "PENDING_APPROVAL", "Pending approval"
    ACTIVE = "ACTIVE", "Active"
    RESERVED = "RESERVED", "Reserved (nothing available)"
    SOLD = "SOLD", "Sold"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"
    CANCELLED = "CANCELLED", "Cancelled"


class RequirementStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ACTIVE = "ACTIVE", "Active"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED", "Partially fulfilled"
    FULFILLED = "FULFILLED", "Fulfilled"
    EXPIRED = "EXPIRED", "Expired"
    CANCELLED = "CANCELLED", "Cancelled"


class Urgency(models.TextChoices):
    URGENT = "URGENT", "Urgent"
    NORMAL = "NORMAL", "Normal"
    PLANNING = "PLANNING", "Planning"


class ReservationStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    RELEASED = "RELEASED", "Released"
    SOLD = "SOLD", "Sold"
    EXPIRED = "EXPIRED", "Expired"


@tracked()
class Availability(BaseModel):
    """A seller's offer on the organization's market."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, blank=True, help_text="AV/2026-27/000001, given at submit.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=AvailabilityStatus.choices, default=AvailabilityStatus.DRAFT)
    commodity = models.ForeignKey("commodities.Commodity", on_delete=models.PROTECT, related_name="+")
    variety = models.ForeignKey(
        "commodities.Variety", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Quantity as entered, and in kg.
    quantity = _kg()
    quantity_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    quantity_unit_factor = models.DecimalField(max_digits=20, decimal_places=8, help_text="kg per unit, as used.")
    total_kg = _kg()
    available_kg = _kg()
    reserved_kg = _kg(default=0)
    sold_kg = _kg(default=0)
    min_order_kg = _kg(default=0)
    partial_allowed = models.BooleanField(default=True)
    # Price as entered (per price unit), and per kg.
    price = _money()
    price_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    price_unit_factor = models.DecimalField(max_digits=20, decimal_places=8)
    currency = models.CharField(max_length=3, default="INR")
    price_per_kg = _per_kg()
    quality = models.JSONField(default=dict, help_text="Cleaned values per parameter code.")
    # Where it ships from: a branch of the seller (its location), or a location.
    ship_from_branch = models.ForeignKey(
        "partners.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    state_code = models.CharField(max_length=2, blank=True, help_text="Two letters, from the location.")
    region = models.CharField(max_length=16, blank=True)
    delivery_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    available_from = models.DateTimeField()
    available_until = models.DateTimeField()
    day_only = models.BooleanField(default=False, help_text="Expires at the end of the day in the location's zone.")
    expires_at = models.DateTimeField(help_text="available_until, or the end of the local day for day-only offers.")
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    invited_partners = models.ManyToManyField("partners.BusinessPartner", blank=True, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "availabilities"
        constraints = [
            models.CheckConstraint(
                condition=Q(available_kg__gte=0) & Q(reserved_kg__gte=0) & Q(sold_kg__gte=0),
                name="availability_quantities_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_kg=F("available_kg") + F("reserved_kg") + F("sold_kg")),
                name="availability_quantities_add_up",
            ),
            models.CheckConstraint(condition=Q(total_kg__gt=0), name="availability_total_positive"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="availability_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="availability_price_positive"),
            models.CheckConstraint(
                condition=Q(min_order_kg__gte=0) & Q(min_order_kg__lte=F("total_kg")),
                name="availability_min_order_within_total",
            ),
            models.CheckConstraint(
                condition=Q(available_until__gt=F("available_from")), name="availability_window_ordered"
            ),
            models.UniqueConstraint(
                fields=["organization", "number"], condition=~Q(number=""), name="availability_number_unique"
            ),
        ]
        indexes = [
            # The market by commodity, and matching's candidates: price_per_kg last, so a
            # requirement's price bound is an index range (issue 12), not a pass over every offer.
            models.Index(
                fields=["organization", "status", "commodity", "price_per_kg"], name="availability_market_idx"
            ),
            # The market lists newest first within an organization: a page is an index range scan.
            models.Index(
                fields=["organization", "status", "-created_at", "-id"], name="availability_market_recent_idx"
            ),
            models.Index(fields=["status", "expires_at"], name="availability_expiry_idx"),
            models.Index(fields=["partner", "status"], name="availability_partner_idx"),
            # The back office's search by number (any part, any case: UPPER(number) LIKE): issue 15.
            # fastupdate off: no pending list of unmerged entries for every search to read through
            # (up to gin_pending_list_limit, 4 MB: 10-30 ms a search at 200,000 rows).
            GinIndex(OpClass(Upper("number"), name="gin_trgm_ops"), name="availability_number_trgm", fastupdate=False),
            # The back office's list: every state, newest first (a page is an index range scan,
            # also under a search matching many postings), and its filter by state (one probe a state).
            models.Index(fields=["organization", "-created_at", "-id"], name="availability_org_recent_idx"),
            models.Index(fields=["state_code", "organization"], name="availability_state_idx"),
        ]
        permissions = [("approve_availability", "Can approve or reject availabilities")]

    def __str__(self) -> str:
        return self.number or f"availability {self.pk}"


@tracked()
class Reservation(BaseModel):
    """Quantity held on an availability for a negotiation or a trade, until released, sold or
    expired. `purpose`/`reference` name what holds it (plain values: the negotiation or trade
    lives in a later model and may not exist yet).

    An owned reservation (`owner_type`/`owner_id`, e.g. `trades.negotiation` and its id) lives as
    long as its owner says: the owner sets `expires_at` and moves it on (reservation_extend,
    reservation_resize) and releases it itself; the trade desk's expiry job takes an owned
    reservation only `TRADEDESK_OWNED_RESERVATION_GRACE_MINUTES` after that expiry, as a safety
    net should the owner never come back."""

    availability = models.ForeignKey(Availability, on_delete=models.PROTECT, related_name="reservations")
    quantity_kg = _kg()
    status = models.CharField(max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE)
    purpose = models.CharField(max_length=20, help_text="NEGOTIATION, TRADE, MANUAL ...")
    reference = models.CharField(max_length=64, blank=True)
    buyer = models.ForeignKey(
        "partners.BusinessPartner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    owner_type = models.CharField(max_length=40, null=True, blank=True, help_text="What holds it: trades.negotiation.")
    owner_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity_kg__gt=0), name="reservation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(owner_type__isnull=True, owner_id__isnull=True)
                | Q(owner_type__isnull=False, owner_id__isnull=False),
                name="reservation_owner_complete",
            ),
            models.CheckConstraint(
                condition=Q(status="ACTIVE") | Q(closed_at__isnull=False), name="reservation_closed_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="reservation_expiry_idx"),
            models.Index(fields=["owner_type", "owner_id"], name="reservation_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_kg} kg of {self.availability_id} ({self.status})"


@tracked()
class Requirement(BaseModel):
    """A buyer's need."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, blank=True, help_text="RQ/2026-27/000001, given at publish.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=RequirementStatus.choices, default=RequirementStatus.DRAFT)
    commodity = models.ForeignKey("commodities.Commodity", on_delete=models.PROTECT, related_name="+")
    variety = models.ForeignKey(
        "commodities.Variety", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Quantities as entered in one unit, and in kg.
    quantity_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    quantity_unit_factor = models.DecimalField(max_digits=20, decimal_places=8)
    min_quantity = _kg()
    max_quantity = _kg()
    preferred_quantity = _kg(null=True, blank=True)
    min_kg = _kg()
    max_kg = _kg()
    preferred_kg = _kg(null=True, blank=True)
    fulfilled_kg = _kg(default=0)
    spec = models.JSONField(default=dict, help_text="Per parameter code: min, max, preferred, exact, accepted.")
    # Prices per price unit, and per kg.
    price_unit = models.ForeignKey("commodities.Unit", on_delete=models.PROTECT, related_name="+")
    price_unit_factor = models.DecimalField(max_digits=20, decimal_places=8)
    currency = models.CharField(max_length=3, default="INR")
    max_price = _money()
    preferred_price = _money(null=True, blank=True)
    max_price_per_kg = _per_kg()
    preferred_price_per_kg = _per_kg(null=True, blank=True)
    delivery_from = models.DateField()
    delivery_until = models.DateField()
    payment_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delivery_term = models.ForeignKey(
        "commodities.TradeTerm", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    invited_partners = models.ManyToManyField("partners.BusinessPartner", blank=True, related_name="+")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    state_code = models.CharField(max_length=2, blank=True, help_text="Of the first delivery location.")
    region = models.CharField(max_length=16, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__gt=0) & Q(max_quantity__gte=F("min_quantity")),
                name="requirement_quantities_ordered",
            ),
            models.CheckConstraint(
                condition=Q(preferred_quantity__isnull=True)
                | (Q(preferred_quantity__gte=F("min_quantity")) & Q(preferred_quantity__lte=F("max_quantity"))),
                name="requirement_preferred_quantity_in_range",
            ),
            models.CheckConstraint(condition=Q(max_price__gt=0), name="requirement_max_price_positive"),
            models.CheckConstraint(
                condition=Q(preferred_price__isnull=True)
                | (Q(preferred_price__gt=0) & Q(preferred_price__lte=F("max_price"))),
                name="requirement_preferred_price_within_max",
            ),
            models.CheckConstraint(
                condition=Q(fulfilled_kg__gte=0) & Q(fulfilled_kg__lte=F("max_kg")),
                name="requirement_fulfilled_within_max",
            ),
            models.CheckConstraint(
                condition=Q(delivery_until__gte=F("delivery_from")), name="requirement_delivery_window_ordered"
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="requirement_validity_ordered"),
            models.UniqueConstraint(
                fields=["organization", "number"], condition=~Q(number=""), name="requirement_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "commodity"], name="requirement_market_idx"),
            models.Index(fields=["organization", "status", "-created_at", "-id"], name="requirement_market_recent_idx"),
            models.Index(fields=["status", "valid_until"], name="requirement_expiry_idx"),
            models.Index(fields=["partner", "status"], name="requirement_partner_idx"),
            GinIndex(OpClass(Upper("number"), name="gin_trgm_ops"), name="requirement_number_trgm", fastupdate=False),
            models.Index(fields=["organization", "-created_at", "-id"], name="requirement_org_recent_idx"),
            models.Index(fields=["state_code", "organization"], name="requirement_state_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"requirement {self.pk}"


@tracked()
class RequirementDeliveryLocation(BaseModel):
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="delivery_locations")
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    radius_km = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requirement", "location"], name="requirement_location_unique"),
            models.CheckConstraint(condition=Q(radius_km__gte=0), name="requirement_radius_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.location_id} within {self.radius_km} km"

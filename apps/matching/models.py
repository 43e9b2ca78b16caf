"""The matching engine's data (SPEC section 8).

- `MatchProposal`: one row per (requirement, availability) pair that passed every hard filter
  and scored at least the commodity's minimum; re-matching updates the row (a unique constraint
  per pair), never adds a second one. A pair that stops passing is WITHDRAWN, and becomes
  ACTIVE again (same row, same token) if it passes later. The row keeps everything needed to
  explain and re-score it: each score component, the weights and schedule versions, the raw
  and quality-adjusted prices with the schedule's lines, and the filters it passed.
- `MatchingWeights`: the score's weights and minimum per commodity, versioned (a proposal names
  the version it was scored with). Without a row the defaults of SPEC section 8 apply
  (version 0: 0.40 / 0.30 / 0.15 / 0.15, minimum 0.6).
- `MatchingSettings`: the per-organization switches (freight estimate per km, whether the
  delivery radius is a hard filter). Without a row the defaults apply.
- `MatchSweep`: when the periodic sweep last ran (what changed since is re-matched).

Excluded pairs are not stored: the match report recomputes them.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel

TOKEN_BYTES = 24  # 192 bits; token_urlsafe(24) is 32 characters

DEFAULT_WEIGHTS = {
    "quality": Decimal("0.40"),
    "price": Decimal("0.30"),
    "delivery": Decimal("0.15"),
    "risk": Decimal("0.15"),
}
DEFAULT_MIN_SCORE = Decimal("0.6")
# How many proposals a requirement keeps (its best): SPEC section 8 tells each side of its top 5
# new matches; the match report explains the rest.
DEFAULT_PROPOSALS_PER_REQUIREMENT = 20


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class ProposalStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"


class MatchProposal(BaseModel):
    """A requirement and an availability that match, with the score that says how well."""

    # No single-column index on these five: each leads a composite index or constraint below
    # (the pair's unique constraint, best-first per buyer and per seller, per availability, the
    # desk's), which serves its lookups and cascades; every index is one more write per upsert.
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    requirement = models.ForeignKey("tradedesk.Requirement", on_delete=models.CASCADE, related_name="+", db_index=False)
    availability = models.ForeignKey(
        "tradedesk.Availability", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    buyer = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+", db_index=False)
    seller = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+", db_index=False)
    # Nor on these two (issue 12: the sweep writes tens of thousands of rows, and the two were a
    # fifth of its upsert's time): nothing reads proposals by creation time, and by commodity
    # only within an organization (match_desk_idx); a commodity's deletion (PROTECT, a platform
    # admin's rare act) scans the table for its proposals instead.
    created_at = models.DateTimeField(auto_now_add=True)
    commodity = models.ForeignKey("commodities.Commodity", on_delete=models.PROTECT, related_name="+", db_index=False)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.ACTIVE)
    score = models.DecimalField(max_digits=7, decimal_places=6)
    components = models.JSONField(default=dict, help_text="quality, price, delivery, risk: each in [0, 1].")
    weights_version = models.PositiveIntegerField(default=0)
    weights = models.JSONField(default=dict, help_text="The weights and minimum the score used.")
    schedule_id = models.UUIDField(null=True, blank=True, help_text="The premium/discount schedule priced with.")
    schedule_version = models.PositiveIntegerField(null=True, blank=True)
    raw_price_per_kg = models.DecimalField(max_digits=14, decimal_places=4)
    adjusted_price_per_kg = models.DecimalField(max_digits=14, decimal_places=4)
    distance_km = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    risk_result = models.CharField(max_length=4, default="PASS")
    explanation = models.JSONField(default=dict)
    filters_passed = models.JSONField(default=list)
    proposed_at = models.DateTimeField(help_text="When the pair first matched (kept across updates).")
    scored_at = models.DateTimeField(help_text="When the score was last computed.")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requirement", "availability"], name="match_proposal_pair_unique"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="match_proposal_score_in_unit"),
            models.CheckConstraint(
                condition=Q(status="ACTIVE") | Q(withdrawn_at__isnull=False), name="match_proposal_withdrawn_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "status", "-score", "id"], name="match_buyer_best_idx"),
            models.Index(fields=["seller", "status", "-score", "id"], name="match_seller_best_idx"),
            models.Index(fields=["availability", "status"], name="match_availability_idx"),
            models.Index(fields=["organization", "status", "commodity", "-score"], name="match_desk_idx"),
        ]

    def __str__(self) -> str:
        return f"match {self.requirement_id} x {self.availability_id} ({self.score}, {self.status})"


class MatchingWeights(BaseModel):
    """The score's weights and minimum for one commodity, one version. Exactly one active
    version per commodity (a partial unique index); a new version is a new row."""

    commodity = models.ForeignKey("commodities.Commodity", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    quality = models.DecimalField(max_digits=5, decimal_places=4, default=DEFAULT_WEIGHTS["quality"])
    price = models.DecimalField(max_digits=5, decimal_places=4, default=DEFAULT_WEIGHTS["price"])
    delivery = models.DecimalField(max_digits=5, decimal_places=4, default=DEFAULT_WEIGHTS["delivery"])
    risk = models.DecimalField(max_digits=5, decimal_places=4, default=DEFAULT_WEIGHTS["risk"])
    min_score = models.DecimalField(max_digits=5, decimal_places=4, default=DEFAULT_MIN_SCORE)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "matching weights"
        constraints = [
            models.UniqueConstraint(fields=["commodity", "version"], name="matching_weights_version_unique"),
            models.UniqueConstraint(
                fields=["commodity"], condition=Q(is_active=True), name="matching_weights_one_active"
            ),
            models.CheckConstraint(
                condition=Q(quality__gte=0) & Q(price__gte=0) & Q(delivery__gte=0) & Q(risk__gte=0),
                name="matching_weights_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_score__gte=0) & Q(min_score__lte=1), name="matching_weights_min_score_in_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"weights v{self.version} of {self.commodity_id}"


class MatchingSettings(BaseModel):
    """Matching switches of one organization.

    `freight_per_kg_km`: a freight estimate (currency per kg per km) added to an offer's
    quality-adjusted price for its distance to the nearest delivery location; null: none.
    `enforce_radius`: the delivery radius is a hard filter (SPEC section 8, the default); off,
    distance only lowers the delivery score (and the freight estimate prices it).
    `proposals_per_requirement`: how many proposals a requirement keeps, its best (top N); a
    pair that still passes but falls out of them is withdrawn as `outranked`."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="matching_settings"
    )
    freight_per_kg_km = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    enforce_radius = models.BooleanField(default=True)
    proposals_per_requirement = models.PositiveSmallIntegerField(
        default=DEFAULT_PROPOSALS_PER_REQUIREMENT, help_text="How many proposals a requirement keeps (its best)."
    )

    class Meta:
        verbose_name_plural = "matching settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(freight_per_kg_km__isnull=True) | Q(freight_per_kg_km__gte=0),
                name="matching_settings_freight_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(proposals_per_requirement__gte=1) & Q(proposals_per_requirement__lte=500),
                name="matching_settings_top_n_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"matching settings of {self.organization_id}"


class MatchSweep(models.Model):
    """The periodic sweep's watermark: one row per sweep name."""

    name = models.CharField(max_length=40, primary_key=True)
    last_swept_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_swept_at}"

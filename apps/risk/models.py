"""Risk (SPEC section 11): credit limits, the exposure ledger, assessments, limit changes and alerts.

- `RiskSettings`: one row per organization: the stage weights of exposure, the increase above
  which a limit change needs a second person, and the rules' thresholds that are data.
- `CreditAccount`: one row per partner: its limit, the open gross amount per exposure stage, the
  weighted exposure and the utilisation level, all kept in the same transaction as the ledger, so
  reading a partner's exposure is one row. Also the partner's rating and payment/delivery
  performance (partners has no such fields; defaults 4.00, 100 and 100).
- `ExposureEntry`: the append-only ledger. An entry is booked and later released (released_at);
  a move to another stage or a resize releases the old entry and books a new one, both kept.
- `Assessment`: one recorded buyer/seller check, its inputs, factors, result and rules version.
- `LimitChange`: a limit set, requested, approved or rejected (maker-checker), old and new values.
- `ExposureAlert`: one utilisation level crossing (also emitted as risk.exposure.alert).
- `FreeMailDomain`: the free-mail domains a shared e-mail domain is not a party link for.

Money is Decimal; amounts are in the organization's base currency (INR).
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.audit import tracked
from apps.core.models import BaseModel


def _money(**options: object) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=16, decimal_places=2, **options)  # type: ignore[arg-type]


def _weight(default: str) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=5, decimal_places=4, default=Decimal(default))


class ExposureStage(models.TextChoices):
    POSTED = "POSTED", "Posted"
    MATCHED = "MATCHED", "Matched"
    NEGOTIATING = "NEGOTIATING", "Negotiating"
    CONTRACTED = "CONTRACTED", "Contracted"
    DELIVERED_UNBILLED = "DELIVERED_UNBILLED", "Delivered, not billed"
    INVOICED = "INVOICED", "Invoiced"


# The credit row's open gross amount of each stage.
STAGE_TOTAL_FIELD: dict[str, str] = {
    ExposureStage.POSTED: "posted_amount",
    ExposureStage.MATCHED: "matched_amount",
    ExposureStage.NEGOTIATING: "negotiating_amount",
    ExposureStage.CONTRACTED: "contracted_amount",
    ExposureStage.DELIVERED_UNBILLED: "delivered_unbilled_amount",
    ExposureStage.INVOICED: "invoiced_amount",
}
# The settings row's weight of each stage.
STAGE_WEIGHT_FIELD: dict[str, str] = {
    ExposureStage.POSTED: "weight_posted",
    ExposureStage.MATCHED: "weight_matched",
    ExposureStage.NEGOTIATING: "weight_negotiating",
    ExposureStage.CONTRACTED: "weight_contracted",
    ExposureStage.DELIVERED_UNBILLED: "weight_delivered_unbilled",
    ExposureStage.INVOICED: "weight_invoiced",
}


class CheckResult(models.TextChoices):
    PASS = "PASS", "Pass"
    WARN = "WARN", "Warn"
    FAIL = "FAIL", "Fail"


class UtilisationLevel(models.TextChoices):
    """Utilisation bands: >= 50% LOW, >= 75% MEDIUM, >= 90% HIGH, >= 100% CRITICAL (below 50%: NORMAL)."""

    NORMAL = "NORMAL", "Normal (< 50%)"
    LOW = "LOW", "Low (>= 50%)"
    MEDIUM = "MEDIUM", "Medium (>= 75%)"
    HIGH = "HIGH", "High (>= 90%)"
    CRITICAL = "CRITICAL", "Critical (>= 100%)"


class AssessmentSide(models.TextChoices):
    BUYER = "BUYER", "Buyer"
    SELLER = "SELLER", "Seller"


class LimitChangeStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for approval"
    APPLIED = "APPLIED", "Applied"
    REJECTED = "REJECTED", "Rejected"


class LimitChangeSource(models.TextChoices):
    BACK_OFFICE = "BACK_OFFICE", "Back office"
    AMENDMENT = "AMENDMENT", "Partner amendment"
    ONBOARDING = "ONBOARDING", "Onboarding approval"


@tracked()
class RiskSettings(BaseModel):
    """The organization's risk data (one row each, created on first use with these defaults)."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="risk_settings"
    )
    weight_posted = _weight("0")
    weight_matched = _weight("0")
    weight_negotiating = _weight("0.25")
    weight_contracted = _weight("1")
    weight_delivered_unbilled = _weight("1")
    weight_invoiced = _weight("1")
    risk_limit_approval_threshold = _money(
        default=Decimal("1000000"),
        help_text="A limit increase larger than this needs a second person's approval.",
    )

    class Meta:
        verbose_name = "risk settings"
        verbose_name_plural = "risk settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_posted__gte=0)
                & Q(weight_matched__gte=0)
                & Q(weight_negotiating__gte=0)
                & Q(weight_contracted__gte=0)
                & Q(weight_delivered_unbilled__gte=0)
                & Q(weight_invoiced__gte=0),
                name="risk_settings_weights_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(risk_limit_approval_threshold__gte=0), name="risk_settings_threshold_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Risk settings of {self.organization_id}"

    def weight(self, stage: str) -> Decimal:
        return Decimal(getattr(self, STAGE_WEIGHT_FIELD[stage]))


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(
        condition=pghistory.AnyChange("credit_limit", "rating", "payment_performance", "delivery_performance", "level")
    ),
)
class CreditAccount(BaseModel):
    """A partner's credit row: limit, open amounts per stage, weighted exposure, level.

    The stage totals and `exposure` move only in `services.exposure`, under the row's lock, in the
    transaction that writes the ledger entry: the sum of a stage's open entries always equals its
    total, and `exposure` = sum(total x stage weight).
    """

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.OneToOneField("partners.BusinessPartner", on_delete=models.PROTECT, related_name="credit_account")
    currency = models.CharField(max_length=3, default="INR")
    credit_limit = _money(default=Decimal("0"))
    posted_amount = _money(default=Decimal("0"))
    matched_amount = _money(default=Decimal("0"))
    negotiating_amount = _money(default=Decimal("0"))
    contracted_amount = _money(default=Decimal("0"))
    delivered_unbilled_amount = _money(default=Decimal("0"))
    invoiced_amount = _money(default=Decimal("0"))
    exposure = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    level = models.CharField(max_length=10, choices=UtilisationLevel.choices, default=UtilisationLevel.NORMAL)
    level_changed_at = models.DateTimeField(null=True, blank=True)
    # Counterparty facts the assessments read (partners keeps none): 0.00-5.00 and 0-100 %.
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("4.00"))
    payment_performance = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("100"))
    delivery_performance = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("100"))
    limit_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="credit_limit_not_negative"),
            models.CheckConstraint(
                condition=Q(posted_amount__gte=0)
                & Q(matched_amount__gte=0)
                & Q(negotiating_amount__gte=0)
                & Q(contracted_amount__gte=0)
                & Q(delivered_unbilled_amount__gte=0)
                & Q(invoiced_amount__gte=0)
                & Q(exposure__gte=0),
                name="credit_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(rating__gte=0) & Q(rating__lte=5), name="credit_rating_range"),
            models.CheckConstraint(
                condition=Q(payment_performance__gte=0)
                & Q(payment_performance__lte=100)
                & Q(delivery_performance__gte=0)
                & Q(delivery_performance__lte=100),
                name="credit_performance_range",
            ),
        ]
        indexes = [models.Index(fields=["organization", "level"], name="credit_org_level_idx")]
        permissions = [
            ("set_credit_limit", "Can set credit limits or request their increase"),
            ("approve_credit_limit", "Can approve or reject requested credit limit changes"),
        ]

    def __str__(self) -> str:
        return f"Credit of {self.partner_id}: {self.exposure} / {self.credit_limit}"

    @property
    def headroom(self) -> Decimal:
        return Decimal(self.credit_limit) - Decimal(self.exposure)

    @property
    def utilisation(self) -> Decimal | None:
        """exposure / limit (1 = 100%); None for a zero limit (any exposure on it is CRITICAL)."""
        if not self.credit_limit:
            return None
        return (Decimal(self.exposure) / Decimal(self.credit_limit)).quantize(Decimal("0.0001"))

    def stage_total(self, stage: str) -> Decimal:
        return Decimal(getattr(self, STAGE_TOTAL_FIELD[stage]))


class ExposureEntry(BaseModel):
    """One ledger entry: booked, and later released; never updated otherwise, never deleted.

    At most one open entry per (partner, source): booking a source again changes nothing.
    """

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=20, choices=ExposureStage.choices)
    amount = _money()
    currency = models.CharField(max_length=3, default="INR")
    source_type = models.CharField(max_length=40)
    source_id = models.UUIDField()
    booked_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    # Why it was released: RELEASED (the source ended), MOVED (to another stage), RESIZED.
    release_reason = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name_plural = "exposure entries"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="exposure_amount_positive"),
            models.UniqueConstraint(
                fields=["partner", "source_type", "source_id"],
                condition=Q(released_at__isnull=True),
                name="exposure_one_open_entry_per_source",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | ~Q(release_reason=""), name="exposure_release_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="exposure_source_idx"),
            models.Index(fields=["partner", "stage"], condition=Q(released_at__isnull=True), name="exposure_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.amount} {self.source_type}:{self.source_id}"


class Assessment(BaseModel):
    """A recorded buyer or seller check: who and what was assessed, its inputs, factors and result."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=6, choices=AssessmentSide.choices)
    amount = _money()
    stage = models.CharField(max_length=20, choices=ExposureStage.choices)
    counterparty = models.ForeignKey(
        "partners.BusinessPartner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.UUIDField(null=True, blank=True)
    result = models.CharField(max_length=4, choices=CheckResult.choices)
    score = models.SmallIntegerField()
    factors = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)
    rules_version = models.CharField(max_length=20)

    class Meta:
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="assessment_partner_idx"),
            models.Index(fields=["source_type", "source_id"], name="assessment_source_idx"),
            models.Index(fields=["organization", "result", "-created_at"], name="assessment_org_result_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.result} ({self.score}) for {self.partner_id}"


@tracked()
class LimitChange(BaseModel):
    """A change of a partner's credit limit: applied at once, or PENDING a second person's approval
    (an increase above the organization's threshold), then APPLIED or REJECTED. Old and new kept."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    old_limit = _money()
    new_limit = _money()
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=LimitChangeStatus.choices)
    source = models.CharField(max_length=12, choices=LimitChangeSource.choices, default=LimitChangeSource.BACK_OFFICE)
    amendment_id = models.UUIDField(null=True, blank=True, help_text="The partners amendment it came from.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(old_limit__gte=0) & Q(new_limit__gte=0), name="limit_change_not_negative"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="limit_change_has_reason"),
            models.UniqueConstraint(
                fields=["partner"], condition=Q(status="PENDING"), name="limit_change_one_pending_per_partner"
            ),
            models.UniqueConstraint(
                fields=["amendment_id"], condition=Q(amendment_id__isnull=False), name="limit_change_amendment_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="PENDING") | Q(decided_at__isnull=False), name="limit_change_decided_has_time"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "-created_at"], name="limit_change_queue_idx")]

    def __str__(self) -> str:
        return f"Limit {self.old_limit} -> {self.new_limit} of {self.partner_id} ({self.status})"


class ExposureAlert(BaseModel):
    """One utilisation level crossing of a partner (up or down), as emitted in risk.exposure.alert."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.BusinessPartner", on_delete=models.PROTECT, related_name="+")
    from_level = models.CharField(max_length=10, choices=UtilisationLevel.choices)
    to_level = models.CharField(max_length=10, choices=UtilisationLevel.choices)
    exposure = models.DecimalField(max_digits=18, decimal_places=2)
    credit_limit = _money()
    utilisation = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="exposure_alert_org_idx")]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.from_level} -> {self.to_level}"


class FreeMailDomain(models.Model):
    """A free-mail domain (gmail.com, ...): two partners sharing it are not linked by it."""

    domain = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.domain

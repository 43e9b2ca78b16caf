"""Global masters: units, commodities with their varieties and typed quality parameters, quality
premium/discount schedules, trade terms and commission structures (SPEC section 5).

None of these rows belongs to an organization: they are shared by every tenant and managed by
platform admins. Every model is tracked by django-pghistory (apps.core.audit).

Cross-field invariants that a `CheckConstraint` cannot state (JSON lists, a rule's parameter
belonging to its schedule's commodity) live in `clean()`, which every service and admin form
runs through `full_clean()`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from apps.core.audit import tracked
from apps.core.models import BaseModel

UPPER_CODE_REGEX = r"^[A-Z][A-Z0-9_]*$"
VARIETY_CODE_REGEX = r"^[A-Z0-9][A-Z0-9_-]*$"
SNAKE_CODE_REGEX = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


def _decimal(max_digits: int = 12, decimal_places: int = 4, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


# --- Units ------------------------------------------------------------------------------------


@tracked()
class Unit(BaseModel):
    """A unit of mass with its exact factor to the base unit (kg). The factor is data: exchanges
    differ (a candy is 355.62 kg by the Indian trade convention), and every trade stores the
    factor it used."""

    code = models.CharField(max_length=16, unique=True, help_text="e.g. KG, BALE, CANDY.")
    name = models.CharField(max_length=100)
    factor_to_kg = _decimal(20, 8, help_text="How many kilograms one unit is, exactly.")
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=UPPER_CODE_REGEX), name="unit_code_format"),
            models.CheckConstraint(condition=Q(factor_to_kg__gt=0), name="unit_factor_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.factor_to_kg.normalize():f} kg)"


# --- Commodities ------------------------------------------------------------------------------


class CommodityCategory(models.TextChoices):
    FIBRE = "FIBRE", "Fibre (lint)"
    RAW = "RAW", "Raw produce (kapas)"
    SEED = "SEED", "Seed"
    YARN = "YARN", "Yarn"
    OTHER = "OTHER", "Other"


@tracked()
class Commodity(BaseModel):
    code = models.CharField(max_length=30, unique=True, help_text="Upper case, e.g. COTTON, KAPAS, COTTONSEED.")
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=16, choices=CommodityCategory.choices)
    hsn_code = models.CharField("HSN code", max_length=8, help_text="4, 6 or 8 digits (cotton lint: 5201).")
    gst_rate = _decimal(5, 2, help_text="GST rate in percent (cotton: 5.00).")
    base_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", help_text="Always KG.")
    trade_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", help_text="e.g. BALE.")
    rate_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", help_text="Prices are quoted per this unit (e.g. CANDY)."
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "commodities"
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=UPPER_CODE_REGEX), name="commodity_code_format"),
            models.CheckConstraint(condition=Q(hsn_code__regex=r"^[0-9]{4}([0-9]{2}){0,2}$"), name="commodity_hsn"),
            models.CheckConstraint(condition=Q(gst_rate__gte=0, gst_rate__lte=100), name="commodity_gst_rate_range"),
            models.UniqueConstraint(
                Lower("name"),
                name="commodity_name_unique_ci",
                violation_error_code="unique",
                violation_error_message="A commodity with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        base = getattr(self, "base_unit", None) if self.base_unit_id else None
        if base is not None and base.factor_to_kg != Decimal(1):
            raise ValidationError({"base_unit": "The base unit is the kilogram (a unit whose factor is 1)."})


@tracked()
class Variety(BaseModel):
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="varieties")
    code = models.CharField(max_length=40, help_text="Upper case, e.g. SHANKAR-6, DCH-32.")
    name = models.CharField(max_length=100, help_text="e.g. Shankar-6.")
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "varieties"
        constraints = [
            models.UniqueConstraint(fields=["commodity", "code"], name="variety_code_unique_per_commodity"),
            models.UniqueConstraint(
                "commodity",
                Lower("name"),
                name="variety_name_unique_per_commodity",
                violation_error_code="unique",
                violation_error_message="This commodity already has a variety with this name.",
            ),
            models.CheckConstraint(condition=Q(code__regex=VARIETY_CODE_REGEX), name="variety_code_format"),
        ]

    def __str__(self) -> str:
        return self.name


# --- Quality parameters -----------------------------------------------------------------------


class ParameterKind(models.TextChoices):
    NUMERIC = "NUMERIC", "Number in a range"
    GRADE = "GRADE", "One of a list"


@tracked()
class QualityParameter(BaseModel):
    """A typed quality parameter of one commodity. `code` is stable (offers, specs and schedules
    refer to it); it and `kind` never change once created."""

    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="parameters")
    code = models.CharField(max_length=40, help_text="snake_case, stable: staple_length, micronaire.")
    name = models.CharField(max_length=100, help_text="Display name.")
    kind = models.CharField(max_length=8, choices=ParameterKind.choices)
    unit = models.CharField(max_length=20, blank=True, help_text="Measure of a NUMERIC value: mm, %, g/tex.")
    min_value = _decimal(null=True, blank=True)
    max_value = _decimal(null=True, blank=True)
    allowed_values = models.JSONField(default=list, blank=True, help_text="GRADE only: the allowed values, in order.")
    decimals = models.PositiveSmallIntegerField(
        default=2,
        help_text="Reporting precision (NUMERIC): schedules read a value rounded half-up to this many decimals.",
    )
    is_mandatory = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0, help_text="Display order.")
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commodity", "code"], name="parameter_code_unique_per_commodity"),
            models.CheckConstraint(condition=Q(code__regex=SNAKE_CODE_REGEX), name="parameter_code_snake_case"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
                name="parameter_min_not_above_max",
            ),
            models.CheckConstraint(
                condition=Q(kind=ParameterKind.NUMERIC) | Q(min_value__isnull=True, max_value__isnull=True),
                name="parameter_grade_has_no_range",
            ),
            models.CheckConstraint(condition=Q(decimals__lte=4), name="parameter_decimals_at_most_4"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        values = self.allowed_values
        if self.kind == ParameterKind.NUMERIC:
            if values:
                errors["allowed_values"] = "A NUMERIC parameter has a range, not a list of values."
            if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
                errors["max_value"] = "The maximum must not be below the minimum."
        elif self.kind == ParameterKind.GRADE:
            if self.min_value is not None or self.max_value is not None:
                errors["min_value"] = "A GRADE parameter has a list of values, not a range."
            if not isinstance(values, list) or not values:
                errors["allowed_values"] = "A GRADE parameter needs a non-empty list of allowed values."
            elif not all(isinstance(v, str) and v.strip() == v and v for v in values):
                errors["allowed_values"] = "Allowed values are non-empty strings without surrounding spaces."
            elif len(set(values)) != len(values):
                errors["allowed_values"] = "Allowed values must not repeat."
        if errors:
            raise ValidationError(errors)


# --- Quality premium/discount schedules -------------------------------------------------------


@tracked()
class QualitySchedule(BaseModel):
    """One version of a commodity's premium/discount schedule.

    Versions are numbered per commodity. A schedule is a draft until activated; activating one
    deactivates the commodity's previous active version, and an activated schedule never changes
    again (a price computed with version 1 stays reproducible after version 2 exists).
    """

    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="schedules")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    basis_description = models.TextField(blank=True, help_text="e.g. 29 mm, micronaire 3.6-4.8, trash 3.5%.")
    effective_from = models.DateField()
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True, help_text="Set once; the schedule is frozen from then.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commodity", "version"], name="schedule_version_unique_per_commodity"),
            models.UniqueConstraint(
                fields=["commodity"],
                condition=Q(is_active=True),
                name="schedule_one_active_per_commodity",
                violation_error_code="unique",
                violation_error_message="The commodity already has an active schedule.",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="schedule_version_positive"),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(activated_at__isnull=False), name="schedule_active_was_activated"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def is_frozen(self) -> bool:
        return self.activated_at is not None


class RuleKind(models.TextChoices):
    BAND = "BAND", "Band: lower <= value <= upper earns the adjustment"
    RATIO = "RATIO", "Ratio: each step beyond the basis, up to the limit, earns the adjustment"
    REJECT_BELOW = "REJECT_BELOW", "Reject when value < lower"
    REJECT_ABOVE = "REJECT_ABOVE", "Reject when value > upper"


class AdjustmentKind(models.TextChoices):
    PERCENT = "PERCENT", "Percent of the basis price"
    ABSOLUTE = "ABSOLUTE", "Amount per rate unit"


@tracked(pghistory.DeleteEvent())
class ScheduleRule(BaseModel):
    """One rule of a schedule, on one NUMERIC parameter.

    - BAND: `lower <= value <= upper` (both inclusive; either may be open) earns `value`
      (PERCENT of the basis price, or ABSOLUTE per rate unit; signed, 0 marks the basis band).
    - RATIO: `basis` equals `lower` (the rule covers values above the basis, up to the limit
      `upper`) or `upper` (values below the basis, down to the limit `lower`). A value strictly
      beyond the basis earns `value` per `step` points beyond it; points are counted up to the
      limit (a value past the limit earns the limit's adjustment).
    - REJECT_BELOW / REJECT_ABOVE: `value < lower` / `value > upper` rejects (strict).

    Values are rounded half-up to the parameter's `decimals` before they are compared.
    """

    schedule = models.ForeignKey(QualitySchedule, on_delete=models.CASCADE, related_name="rules")
    parameter = models.ForeignKey(QualityParameter, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    lower = _decimal(null=True, blank=True)
    upper = _decimal(null=True, blank=True)
    basis = _decimal(null=True, blank=True, help_text="RATIO only: equals lower or upper.")
    adjustment_kind = models.CharField(max_length=8, choices=AdjustmentKind.choices, blank=True)
    value = _decimal(null=True, blank=True, help_text="Signed: -3 is a 3% (or 3 per rate unit) discount.")
    step = _decimal(null=True, blank=True, help_text="RATIO only: points per adjustment step (1 = per point).")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=RuleKind.BAND, basis__isnull=True, step__isnull=True, value__isnull=False)
                    & ~Q(adjustment_kind="")
                    & (Q(lower__isnull=False) | Q(upper__isnull=False))
                    & (Q(lower__isnull=True) | Q(upper__isnull=True) | Q(lower__lte=models.F("upper")))
                )
                | (
                    Q(kind=RuleKind.RATIO, lower__isnull=False, upper__isnull=False, value__isnull=False, step__gt=0)
                    & ~Q(adjustment_kind="")
                    & Q(lower__lt=models.F("upper"))
                    & (Q(basis=models.F("lower")) | Q(basis=models.F("upper")))
                )
                | Q(
                    kind=RuleKind.REJECT_BELOW,
                    lower__isnull=False,
                    upper__isnull=True,
                    basis__isnull=True,
                    value__isnull=True,
                    step__isnull=True,
                    adjustment_kind="",
                )
                | Q(
                    kind=RuleKind.REJECT_ABOVE,
                    lower__isnull=True,
                    upper__isnull=False,
                    basis__isnull=True,
                    value__isnull=True,
                    step__isnull=True,
                    adjustment_kind="",
                ),
                name="schedule_rule_fields_match_kind",
            ),
        ]
        indexes = [models.Index(fields=["schedule", "parameter"], name="schedule_rule_param_idx")]

    def __str__(self) -> str:
        return f"{self.parameter.code}: {self.describe()}"

    def describe(self) -> str:
        """A one-line explanation, e.g. `28.0-28.4: -3%` or `above 3.50 up to 5.00: -1% per 1`
        (bounds at the parameter's reporting precision)."""

        places = self.parameter.decimals if self.parameter_id else 0

        def n(value: Decimal | None) -> str:
            if value is None:
                return ""
            text = f"{value.normalize():f}"
            shown = len(text.partition(".")[2])
            return f"{value:.{max(places, shown)}f}"

        suffix = "%" if self.adjustment_kind == AdjustmentKind.PERCENT else " per rate unit"
        if self.kind == RuleKind.REJECT_BELOW:
            return f"below {n(self.lower)}: reject"
        if self.kind == RuleKind.REJECT_ABOVE:
            return f"above {n(self.upper)}: reject"
        if self.kind == RuleKind.RATIO:
            if self.basis == self.lower:
                where = f"above {n(self.basis)} up to {n(self.upper)}"
            else:
                where = f"below {n(self.basis)} down to {n(self.lower)}"
            step = "" if self.step is None else f"{self.step.normalize():f}"
            return f"{where}: {_signed(self.value)}{suffix} per {step}"
        if self.lower is None:
            where = f"up to {n(self.upper)}"
        elif self.upper is None:
            where = f"from {n(self.lower)}"
        else:
            where = f"{n(self.lower)}-{n(self.upper)}"
        if self.value == 0:
            return f"{where}: basis"
        return f"{where}: {_signed(self.value)}{suffix}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        parameter = self.parameter if self.parameter_id else None
        schedule = self.schedule if self.schedule_id else None
        if parameter is not None:
            if parameter.kind != ParameterKind.NUMERIC:
                errors["parameter"] = "Schedules adjust NUMERIC parameters only."
            elif schedule is not None and parameter.commodity_id != schedule.commodity_id:
                errors["parameter"] = "The parameter belongs to another commodity."
        errors.update(_rule_field_errors(self))
        if errors:
            raise ValidationError(errors)


def _signed(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text if text.startswith("-") else f"+{text}"


def _rule_field_errors(rule: ScheduleRule) -> dict[str, str]:
    """What a rule of its kind must and must not carry (the check constraint, as field errors)."""
    if rule.kind == RuleKind.BAND:
        return _band_errors(rule)
    if rule.kind == RuleKind.RATIO:
        return _ratio_errors(rule)
    if rule.kind in (RuleKind.REJECT_BELOW, RuleKind.REJECT_ABOVE):
        return _reject_errors(rule)
    return {}


def _band_errors(rule: ScheduleRule) -> dict[str, str]:
    errors: dict[str, str] = {}
    if rule.lower is None and rule.upper is None:
        errors["lower"] = "A band needs a lower or an upper bound (or both)."
    elif rule.lower is not None and rule.upper is not None and rule.lower > rule.upper:
        errors["upper"] = "The upper bound must not be below the lower bound."
    if rule.value is None:
        errors["value"] = "A band needs its adjustment value (0 for the basis band)."
    if not rule.adjustment_kind:
        errors["adjustment_kind"] = "A band needs an adjustment kind (PERCENT or ABSOLUTE)."
    if rule.basis is not None:
        errors["basis"] = "Only a RATIO rule has a basis."
    if rule.step is not None:
        errors["step"] = "Only a RATIO rule has a step."
    return errors


def _ratio_errors(rule: ScheduleRule) -> dict[str, str]:
    errors: dict[str, str] = {}
    if rule.lower is None or rule.upper is None or rule.basis is None:
        errors["basis"] = "A ratio needs lower, upper and a basis equal to one of them."
    elif rule.lower >= rule.upper:
        errors["upper"] = "The upper bound must be above the lower bound."
    elif rule.basis not in (rule.lower, rule.upper):
        errors["basis"] = "The basis must equal the lower bound (ratio above it) or the upper bound (below it)."
    if rule.value is None:
        errors["value"] = "A ratio needs its adjustment per step."
    if rule.step is None or rule.step <= 0:
        errors["step"] = "A ratio needs a positive step (points per adjustment)."
    if not rule.adjustment_kind:
        errors["adjustment_kind"] = "A ratio needs an adjustment kind (PERCENT or ABSOLUTE)."
    return errors


def _reject_errors(rule: ScheduleRule) -> dict[str, str]:
    errors: dict[str, str] = {}
    kind = rule.kind
    needed, unused = ("lower", "upper") if kind == RuleKind.REJECT_BELOW else ("upper", "lower")
    if getattr(rule, needed) is None:
        errors[needed] = f"{kind} needs its {needed} bound."
    if getattr(rule, unused) is not None:
        errors[unused] = f"{kind} uses only its {needed} bound."
    for name in ("basis", "value", "step"):
        if getattr(rule, name) is not None:
            errors[name] = "A reject edge has no adjustment."
    if rule.adjustment_kind:
        errors["adjustment_kind"] = "A reject edge has no adjustment."
    return errors


# --- Trade terms ------------------------------------------------------------------------------


class TermKind(models.TextChoices):
    TRADE_TYPE = "TRADE_TYPE", "Trade type"
    BARGAIN_TYPE = "BARGAIN_TYPE", "Bargain type"
    PASSING = "PASSING", "Passing terms"
    WEIGHTMENT = "WEIGHTMENT", "Weightment terms"
    DELIVERY = "DELIVERY", "Delivery terms"
    PAYMENT = "PAYMENT", "Payment terms"


# The fields only one kind of term carries, and must carry.
TERM_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    TermKind.WEIGHTMENT: ("shortage_allowance_kg_per_100_bales",),
    TermKind.PAYMENT: ("advance_percent", "payment_days", "carry_charge_percent_per_annum"),
}
TERM_TYPED_FIELDS = tuple(f for fields in TERM_KIND_FIELDS.values() for f in fields)


@tracked()
class TradeTerm(BaseModel):
    """One trade-terms master row. One table for every kind (they share code, name, description
    and the active flag); the few typed fields of weightment and payment terms are columns that
    are set exactly for their kind (check constraints)."""

    kind = models.CharField(max_length=16, choices=TermKind.choices)
    code = models.CharField(max_length=40, help_text="Upper case, unique within its kind: SPOT, EX_GIN.")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    shortage_allowance_kg_per_100_bales = _decimal(
        10, 3, null=True, blank=True, help_text="WEIGHTMENT: shortage tolerated without claim, kg per 100 bales."
    )
    advance_percent = _decimal(5, 2, null=True, blank=True, help_text="PAYMENT: advance, percent of the value.")
    payment_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="PAYMENT: balance due in days.")
    carry_charge_percent_per_annum = _decimal(
        5, 2, null=True, blank=True, help_text="PAYMENT: late-payment carry charge, percent per annum."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="term_code_unique_per_kind"),
            models.CheckConstraint(condition=Q(code__regex=UPPER_CODE_REGEX), name="term_code_format"),
            models.CheckConstraint(
                condition=Q(kind=TermKind.WEIGHTMENT, shortage_allowance_kg_per_100_bales__gte=0)
                | (~Q(kind=TermKind.WEIGHTMENT) & Q(shortage_allowance_kg_per_100_bales__isnull=True)),
                name="term_shortage_allowance_for_weightment",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind=TermKind.PAYMENT,
                    advance_percent__gte=0,
                    advance_percent__lte=100,
                    payment_days__isnull=False,
                    carry_charge_percent_per_annum__gte=0,
                )
                | (
                    ~Q(kind=TermKind.PAYMENT)
                    & Q(advance_percent__isnull=True, payment_days__isnull=True)
                    & Q(carry_charge_percent_per_annum__isnull=True)
                ),
                name="term_payment_fields_for_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name} ({self.code})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        own = TERM_KIND_FIELDS.get(self.kind, ())
        for name in TERM_TYPED_FIELDS:
            value = getattr(self, name)
            if name in own and value is None:
                errors[name] = f"Required for {self.kind} terms."
            elif name not in own and value is not None:
                errors[name] = f"Only {'/'.join(k for k, f in TERM_KIND_FIELDS.items() if name in f)} terms have this."
        if self.advance_percent is not None and not (0 <= self.advance_percent <= 100):
            errors["advance_percent"] = "Between 0 and 100."
        for name in ("shortage_allowance_kg_per_100_bales", "carry_charge_percent_per_annum"):
            value = getattr(self, name)
            if value is not None and value < 0:
                errors[name] = "Must not be negative."
        if errors:
            raise ValidationError(errors)


# --- Commission structures --------------------------------------------------------------------


class CommissionBasis(models.TextChoices):
    PERCENTAGE = "PERCENTAGE", "Percent of the trade value"
    FIXED = "FIXED", "Fixed amount per unit"


class CommissionParty(models.TextChoices):
    BUYER = "BUYER", "Buyer"
    SELLER = "SELLER", "Seller"
    BOTH = "BOTH", "Buyer and seller"


@tracked()
class CommissionStructure(BaseModel):
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="commissions")
    trade_type = models.ForeignKey(
        TradeTerm, on_delete=models.PROTECT, related_name="+", limit_choices_to={"kind": TermKind.TRADE_TYPE}
    )
    name = models.CharField(max_length=100, blank=True)
    basis = models.CharField(max_length=16, choices=CommissionBasis.choices)
    rate = _decimal(help_text="Percent (PERCENTAGE) or amount per unit (FIXED).")
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="FIXED: amount per this unit.",
    )
    applies_to = models.CharField(max_length=8, choices=CommissionParty.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0), name="commission_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(basis=CommissionBasis.PERCENTAGE, unit__isnull=True, rate__lte=100)
                | Q(basis=CommissionBasis.FIXED, unit__isnull=False),
                name="commission_unit_matches_basis",
            ),
            models.UniqueConstraint(
                fields=["commodity", "trade_type", "applies_to"],
                condition=Q(is_active=True),
                name="commission_one_active_per_party",
                violation_error_code="unique",
                violation_error_message="An active commission structure already covers this commodity, trade type and party.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.basis} {self.rate.normalize():f} ({self.applies_to})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.trade_type_id and self.trade_type.kind != TermKind.TRADE_TYPE:
            errors["trade_type"] = "Choose a trade type (SPOT, FORWARD ...)."
        if self.basis == CommissionBasis.FIXED and not self.unit_id:
            errors["unit"] = "A FIXED commission is an amount per unit: name the unit."
        if self.basis == CommissionBasis.PERCENTAGE:
            if self.unit_id:
                errors["unit"] = "A PERCENTAGE commission has no unit."
            if self.rate is not None and self.rate > 100:
                errors["rate"] = "A percentage is at most 100."
        if self.rate is not None and self.rate < 0:
            errors["rate"] = "Must not be negative."
        if errors:
            raise ValidationError(errors)

"""Business partners, their users (memberships), onboarding applications, KYC documents and
branches (SPEC section 6). Every model is tracked by django-pghistory (apps.core.audit).

State fields change only through `services`; the constraints below back the invariants up.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.core.audit import tracked
from apps.core.models import BaseModel


class EntityClass(models.TextChoices):
    BUSINESS_ENTITY = "BUSINESS_ENTITY", "Business entity"
    SERVICE_PROVIDER = "SERVICE_PROVIDER", "Service provider"


class BusinessType(models.TextChoices):
    PROPRIETORSHIP = "PROPRIETORSHIP", "Proprietorship"
    PARTNERSHIP = "PARTNERSHIP", "Partnership"
    LLP = "LLP", "LLP"
    PRIVATE_LIMITED = "PRIVATE_LIMITED", "Private limited"
    PUBLIC_LIMITED = "PUBLIC_LIMITED", "Public limited"
    TRUST = "TRUST", "Trust"
    SOCIETY = "SOCIETY", "Society"
    FOREIGN_ENTITY = "FOREIGN_ENTITY", "Foreign entity"


class ServiceType(models.TextChoices):
    BROKER = "BROKER", "Broker"
    TRANSPORTER = "TRANSPORTER", "Transporter"
    CONTROLLER = "CONTROLLER", "Controller"
    FINANCER = "FINANCER", "Financer"
    SHIPPING_AGENT = "SHIPPING_AGENT", "Shipping agent"


class PartnerStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    SUSPENDED = "SUSPENDED", "Suspended"
    BLOCKED = "BLOCKED", "Blocked"


class KycStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    VERIFIED = "VERIFIED", "Verified"
    EXPIRED = "EXPIRED", "Expired"


class RiskCategory(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


class ApprovalRoute(models.TextChoices):
    DESK_MANAGER = "DESK_MANAGER", "Desk manager"
    MANAGER = "MANAGER", "Manager"
    DIRECTOR = "DIRECTOR", "Director"


class FilingCompliance(models.TextChoices):
    GOOD = "GOOD", "Good"
    AVERAGE = "AVERAGE", "Average"
    POOR = "POOR", "Poor"


class MembershipRole(models.TextChoices):
    OWNER = "OWNER", "Owner"
    TRADER = "TRADER", "Trader"
    VIEWER = "VIEWER", "Viewer"


class ApplicationState(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    SUBMITTED = "SUBMITTED", "Submitted"
    UNDER_REVIEW = "UNDER_REVIEW", "Under review"
    INFO_REQUESTED = "INFO_REQUESTED", "Information requested"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"


class DocumentType(models.TextChoices):
    GST_CERTIFICATE = "GST_CERTIFICATE", "GST certificate"
    PAN_CARD = "PAN_CARD", "PAN card"
    CANCELLED_CHEQUE = "CANCELLED_CHEQUE", "Cancelled cheque"
    IEC = "IEC", "Import export code"
    FOREIGN_TAX_ID = "FOREIGN_TAX_ID", "Foreign tax id"
    TRADE_LICENCE = "TRADE_LICENCE", "Import or export licence"
    RC = "RC", "Vehicle registration certificate"
    INSURANCE = "INSURANCE", "Insurance"
    FITNESS = "FITNESS", "Fitness certificate"
    PERMIT = "PERMIT", "Permit"


class DocumentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    VERIFIED = "VERIFIED", "Verified"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"


class VehicleType(models.TextChoices):
    TRUCK = "TRUCK", "Truck"
    TRAILER = "TRAILER", "Trailer"
    TEMPO = "TEMPO", "Tempo"
    CONTAINER = "CONTAINER", "Container carrier"


class AmendmentKind(models.TextChoices):
    BANK = "BANK", "Bank details"
    GST = "GST", "GST registration"
    ADDRESS = "ADDRESS", "Address"
    LEGAL = "LEGAL", "Legal name and PAN"
    CREDIT_LIMIT = "CREDIT_LIMIT", "Credit limit increase"


class AmendmentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    CANCELLED = "CANCELLED", "Cancelled"


class BranchType(models.TextChoices):
    HEAD_OFFICE = "HEAD_OFFICE", "Head office"
    WAREHOUSE = "WAREHOUSE", "Warehouse"
    FACTORY = "FACTORY", "Factory"
    SALES_OFFICE = "SALES_OFFICE", "Sales office"


# --- Partner ------------------------------------------------------------------------------------


@tracked()
class CorporateGroup(BaseModel):
    """Partners of one business group (shared owners): insiders of each other."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="corporate_group_name_unique_per_org")
        ]

    def __str__(self) -> str:
        return self.name


@tracked()
class BusinessPartner(BaseModel):
    """A business partner of one organization (tenant-owned), created by approving an application."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=16, help_text="BP-000123, gapless per organization.")
    entity_class = models.CharField(max_length=20, choices=EntityClass.choices)
    business_type = models.CharField(max_length=20, choices=BusinessType.choices)
    service_type = models.CharField(max_length=20, choices=ServiceType.choices, blank=True)
    legal_name = models.CharField(max_length=200)
    trade_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, default="IN")
    pan = models.CharField(max_length=10, blank=True)
    gstin = models.CharField(max_length=15, blank=True)
    registration_date = models.DateField(null=True, blank=True)
    imports_or_exports = models.BooleanField(default=False)
    owns_lorries = models.BooleanField(default=False)
    # Primary address and contact (contact details are the owner's to edit; the rest by amendment).
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_code = models.CharField(max_length=2, blank=True, help_text="GST state code of the primary address.")
    pincode = models.CharField(max_length=6, blank=True)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=16, blank=True)
    # Bank details: change only through an approved amendment; a pending bank change freezes payouts.
    bank_account_holder = models.CharField(max_length=200, blank=True)
    bank_account_number = models.CharField(max_length=18, blank=True)
    bank_ifsc = models.CharField(max_length=11, blank=True)
    payouts_frozen = models.BooleanField(default=False)
    commodities = models.ManyToManyField("commodities.Commodity", blank=True, related_name="+")
    # Group structure (insider relationships, SPEC section 6).
    master_partner = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="branch_partners"
    )
    corporate_group = models.ForeignKey(
        "partners.CorporateGroup", on_delete=models.PROTECT, null=True, blank=True, related_name="partners"
    )
    status = models.CharField(max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kyc_status = models.CharField(max_length=10, choices=KycStatus.choices, default=KycStatus.PENDING)
    kyc_verified_at = models.DateTimeField(null=True, blank=True)
    kyc_expires_on = models.DateField(null=True, blank=True)
    risk_score = models.PositiveSmallIntegerField(default=50)
    risk_category = models.CharField(max_length=10, choices=RiskCategory.choices, default=RiskCategory.MEDIUM)
    credit_limit = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    # Capabilities: derived from verified documents; a staff override (with its reason) wins.
    # `trading_capabilities` is the effective set every other app reads:
    # {"buy": bool, "sell": bool, "import": bool, "export": bool}.
    derived_capabilities = models.JSONField(default=dict, blank=True)
    capabilities_override = models.JSONField(null=True, blank=True)
    capabilities_override_reason = models.CharField(max_length=500, blank=True)
    trading_capabilities = models.JSONField(default=dict, blank=True)
    max_active_users = models.PositiveSmallIntegerField(default=5)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="partner_code_unique_per_organization"),
            models.UniqueConstraint(
                fields=["gstin"],
                condition=Q(status="ACTIVE") & ~Q(gstin=""),
                name="partner_gstin_unique_among_active",
            ),
            models.CheckConstraint(condition=Q(code__regex=r"^BP-\d{6,}$"), name="partner_code_format"),
            models.CheckConstraint(condition=Q(risk_score__lte=100), name="partner_risk_score_range"),
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="partner_credit_limit_not_negative"),
            models.CheckConstraint(condition=~Q(master_partner=models.F("id")), name="partner_not_its_own_master"),
            models.CheckConstraint(
                condition=Q(capabilities_override__isnull=True) | ~Q(capabilities_override_reason=""),
                name="partner_override_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="partner_org_status_idx"),
            models.Index(fields=["kyc_status", "kyc_expires_on"], name="partner_kyc_expiry_idx"),
            models.Index(fields=["pan"], name="partner_pan_idx"),
            # The back office's search (UPPER(field) LIKE '%...%' over the admin's search_fields), one
            # trigram index per field so an OR of them is a BitmapOr, not a scan (issue 15). fastupdate
            # off: a search never reads a pending list of unmerged entries (up to 4 MB an index; it
            # was 2-10 ms an index, 30 ms for the five, at 200,000 partners).
            *(
                GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"partner_{field}_trgm", fastupdate=False)
                for field in ("code", "legal_name", "trade_name", "pan", "gstin")
            ),
        ]
        permissions = [
            ("approve_low_risk", "Can approve low-risk onboarding applications"),
            ("approve_medium_risk", "Can approve medium-risk onboarding applications"),
            ("approve_high_risk", "Can approve high- and critical-risk onboarding applications"),
            ("change_partner_status", "Can suspend, block and reactivate partners"),
            ("override_capabilities", "Can override a partner's trading capabilities"),
            ("decide_amendment", "Can approve or reject partner amendments"),
            ("renew_kyc", "Can verify renewal documents and renew a partner's KYC"),
            ("manage_employees", "Can invite, change and disable a partner's users"),
            ("trade_for_partner", "Can post, negotiate and trade for the partner"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.legal_name}"


class PartnerCodeCounter(models.Model):
    """The last partner code number issued per organization (gapless: incremented in the
    transaction that creates the partner)."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last_number}"


@tracked()
class PartnerMembership(BaseModel):
    """An external user's one partner, with its role there."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership")
    partner = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices)
    is_active = models.BooleanField(default=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "role"], name="partner_membership_role_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True) | Q(disabled_at__isnull=False), name="membership_disabled_has_time"
            )
        ]

    def __str__(self) -> str:
        # Readable in the admin and in logs of the back office: "Asha Patel, Owner of P-0001 Shree Cotton".
        return f"{self.user}, {self.get_role_display()} of {self.partner}"


# --- Onboarding ---------------------------------------------------------------------------------


@tracked()
class OnboardingApplication(BaseModel):
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    keyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=ApplicationState.choices, default=ApplicationState.DRAFT)
    # The applicant's data.
    entity_class = models.CharField(max_length=20, choices=EntityClass.choices)
    business_type = models.CharField(max_length=20, choices=BusinessType.choices)
    service_type = models.CharField(max_length=20, choices=ServiceType.choices, blank=True)
    legal_name = models.CharField(max_length=200)
    trade_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, default="IN")
    pan = models.CharField(max_length=10, blank=True)
    gstin = models.CharField(max_length=15, blank=True)
    imports_or_exports = models.BooleanField(default=False)
    owns_lorries = models.BooleanField(default=False)
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_code = models.CharField(max_length=2, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=16, blank=True)
    bank_account_number = models.CharField(max_length=18, blank=True)
    bank_ifsc = models.CharField(max_length=11, blank=True)
    # Risk inputs.
    business_age_months = models.PositiveIntegerField(null=True, blank=True)
    gst_turnover = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    filing_compliance = models.CharField(max_length=10, choices=FilingCompliance.choices, blank=True)
    has_quality_lab = models.BooleanField(default=False)
    has_own_transport = models.BooleanField(default=False)
    # Computed at submit.
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_category = models.CharField(max_length=10, choices=RiskCategory.choices, blank=True)
    route = models.CharField(max_length=16, choices=ApprovalRoute.choices, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Back office.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The KYC officer assigned to review (granted the review right on this application).",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    info_request_message = models.TextField(blank=True)
    partner = models.OneToOneField(
        BusinessPartner, on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_score__isnull=True) | Q(risk_score__lte=100), name="application_risk_score_range"
            ),
            models.CheckConstraint(
                condition=~Q(state="APPROVED") | Q(partner__isnull=False), name="application_approved_has_partner"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "state", "route"], name="application_queue_idx"),
            *(  # the back office's search, as BusinessPartner's
                GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"application_{field}_trgm", fastupdate=False)
                for field in ("legal_name", "trade_name", "pan", "gstin")
            ),
            # The back office's queue in its order (latest submitted first): a page is an index range.
            models.Index(
                fields=["organization", "-submitted_at", "-created_at", "-id"], name="application_org_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} - {self.get_state_display().lower()}"


def _document_upload_to(instance: PartnerDocument, filename: str) -> str:
    owner = instance.application_id or instance.partner_id
    return f"partners/documents/{owner}/{instance.id}-{filename}"


@tracked()
class PartnerDocument(BaseModel):
    application = models.ForeignKey(
        OnboardingApplication, on_delete=models.CASCADE, null=True, blank=True, related_name="documents"
    )
    partner = models.ForeignKey(
        BusinessPartner, on_delete=models.CASCADE, null=True, blank=True, related_name="documents"
    )
    document_type = models.CharField(max_length=20, choices=DocumentType.choices)
    file = models.FileField(upload_to=_document_upload_to, max_length=300)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    extracted_data = models.JSONField(default=dict, blank=True)
    needs_manual_verification = models.BooleanField(default=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(application__isnull=False) | Q(partner__isnull=False), name="document_has_owner"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gte=models.F("issued_on")),
                name="document_expiry_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} - {self.get_status_display().lower()}"


@tracked()
class Branch(BaseModel):
    partner = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE, related_name="branches")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    branch_type = models.CharField(max_length=16, choices=BranchType.choices)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_code = models.CharField(max_length=2, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    gstin = models.CharField(max_length=15, null=True, blank=True)
    can_receive = models.BooleanField(default=True)
    can_send = models.BooleanField(default=True)
    is_default_ship_to = models.BooleanField(default=False)
    is_default_ship_from = models.BooleanField(default=False)
    capacity_kg = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "branches"
        constraints = [
            models.UniqueConstraint(fields=["partner", "code"], name="branch_code_unique_per_partner"),
            models.UniqueConstraint(
                fields=["partner"], condition=Q(is_default_ship_to=True), name="branch_one_default_ship_to"
            ),
            models.UniqueConstraint(
                fields=["partner"], condition=Q(is_default_ship_from=True), name="branch_one_default_ship_from"
            ),
            models.CheckConstraint(
                condition=Q(is_default_ship_to=False) | Q(can_receive=True), name="branch_ship_to_can_receive"
            ),
            models.CheckConstraint(
                condition=Q(is_default_ship_from=False) | Q(can_send=True), name="branch_ship_from_can_send"
            ),
            models.CheckConstraint(
                condition=Q(is_active=True) | (Q(is_default_ship_to=False) & Q(is_default_ship_from=False)),
                name="branch_inactive_not_default",
            ),
            models.CheckConstraint(
                condition=Q(capacity_kg__isnull=True) | Q(capacity_kg__gt=0), name="branch_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


@tracked()
class Vehicle(BaseModel):
    """A transporter's lorry."""

    partner = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE, related_name="vehicles")
    registration_number = models.CharField(max_length=12)
    vehicle_type = models.CharField(max_length=12, choices=VehicleType.choices)
    capacity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    insurance_valid_until = models.DateField(null=True, blank=True)
    fitness_valid_until = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration_number"], condition=Q(is_active=True), name="vehicle_registration_unique_active"
            ),
            models.CheckConstraint(
                condition=Q(registration_number__regex=r"^[A-Z]{2}[0-9]{2}[A-Z]{1,2}[0-9]{4}$"),
                name="vehicle_registration_format",
            ),
            models.CheckConstraint(condition=Q(capacity_kg__gt=0), name="vehicle_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.registration_number


@tracked()
class PartnerAmendment(BaseModel):
    """A change to a partner's legal, tax, bank, address or credit data, requested by the partner
    and applied only when staff approve it. `old_values` are captured at request time and
    checked again at approval (a stale amendment is refused)."""

    partner = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE, related_name="amendments")
    kind = models.CharField(max_length=16, choices=AmendmentKind.choices)
    status = models.CharField(max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind"], condition=Q(status="PENDING"), name="amendment_one_pending_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(status="PENDING") | Q(decided_at__isnull=False), name="amendment_decided_has_time"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="amendment_queue_idx")]

    def __str__(self) -> str:
        return f"{self.kind} amendment of {self.partner_id} ({self.status})"


class KycReminder(BaseModel):
    """One KYC expiry reminder sent: unique per partner, expiry date and threshold, so a job that
    runs twice a day (or twice at once) sends each reminder exactly once."""

    partner = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE, related_name="kyc_reminders")
    kyc_expires_on = models.DateField()
    days_before = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kyc_expires_on", "days_before"], name="kyc_reminder_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.days_before} days before {self.kyc_expires_on}"


class BusinessPartnerUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's direct foreign-key table of per-user rights on a partner."""

    content_object = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE)


class BusinessPartnerGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(BusinessPartner, on_delete=models.CASCADE)


class OnboardingApplicationUserObjectPermission(UserObjectPermissionBase):
    """Per-user rights on one application (an assigned KYC officer's review right)."""

    content_object = models.ForeignKey(OnboardingApplication, on_delete=models.CASCADE)


class OnboardingApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(OnboardingApplication, on_delete=models.CASCADE)

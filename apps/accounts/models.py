"""Users, OTP codes and the dev SMS inbox.

An EXTERNAL user's partner is its membership row in the partners app (ARCHITECTURE section 3):
nothing here points at partners.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import tracked
from apps.core.models import BaseModel

E164_REGEX = r"^\+[1-9][0-9]{7,14}$"


class UserType(models.TextChoices):
    SUPER_ADMIN = "SUPER_ADMIN", "Platform admin"
    INTERNAL = "INTERNAL", "Organization staff"
    EXTERNAL = "EXTERNAL", "Partner user"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **fields: Any) -> User:
        if email:
            email = self.normalize_email(email).lower()
        user = self.model(email=email or None, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str, **fields: Any) -> User:
        fields.update(user_type=UserType.SUPER_ADMIN, organization=None, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


# Audit history (apps.core.audit): a snapshot on insert and on every change of a tracked field;
# never the password hash, and not last_login (it changes on every sign-in).
@tracked(exclude=["password", "last_login"])
class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    user_type = models.CharField(max_length=16, choices=UserType.choices)
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    email = models.EmailField(null=True, blank=True, unique=True)
    mobile = models.CharField(max_length=16, null=True, blank=True, unique=True, help_text="E.164, e.g. +919876543210")
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the back office (admin).")
    is_verified = models.BooleanField(default=False)
    # Access tokens issued before this instant are refused (logout of all sessions, disabling).
    tokens_valid_after = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user_type=UserType.SUPER_ADMIN, organization__isnull=True))
                | (Q(user_type__in=[UserType.INTERNAL, UserType.EXTERNAL]) & Q(organization__isnull=False)),
                name="user_organization_matches_type",
                violation_error_message="Every user but a platform admin belongs to exactly one organization.",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(mobile__isnull=False),
                name="user_has_email_or_mobile",
                violation_error_message="A user needs an e-mail or a mobile number.",
            ),
            models.CheckConstraint(
                condition=Q(mobile__isnull=True) | Q(mobile__regex=E164_REGEX), name="user_mobile_e164"
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=True) | Q(email=models.functions.Lower("email")), name="user_email_lowercase"
            ),
        ]
        indexes = [models.Index(fields=["organization", "user_type"], name="user_org_type_idx")]

    def __str__(self) -> str:
        return self.full_name or self.email or self.mobile or str(self.id)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else (self.email or self.mobile or "")


class OtpPurpose(models.TextChoices):
    LOGIN = "LOGIN", "Login"


class OtpCode(BaseModel):
    """One code sent to one mobile. Only its HMAC is stored."""

    mobile = models.CharField(max_length=16)
    purpose = models.CharField(max_length=16, choices=OtpPurpose.choices, default=OtpPurpose.LOGIN)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    # The organization an unknown number applies to (named at request time, used at verify).
    organization = models.ForeignKey("organizations.Organization", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        indexes = [models.Index(fields=["mobile", "-created_at"], name="otp_mobile_recent_idx")]
        constraints = [models.CheckConstraint(condition=Q(mobile__regex=E164_REGEX), name="otp_mobile_e164")]

    def __str__(self) -> str:
        return f"OTP for …{self.mobile[-4:]} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class SmsMessage(BaseModel):
    """The dev SMS inbox: what the offline SMS backend 'sent'. Readable in the admin."""

    to = models.CharField(max_length=16)
    body = models.TextField()
    backend = models.CharField(max_length=100)
    # Whose message it is, fixed when it is sent (the recipient user's organization, else the one
    # an applicant's code was issued for): the inbox is scoped by it, never by the number.
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["to", "-created_at"], name="sms_to_recent_idx")]
        verbose_name = "SMS (dev inbox)"
        verbose_name_plural = "SMS (dev inbox)"

    def __str__(self) -> str:
        return f"SMS to …{self.to[-4:]} at {self.created_at:%Y-%m-%d %H:%M:%S}"

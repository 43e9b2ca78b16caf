"""The tenant. Profile, GST registrations, bank accounts and series arrive with master data."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models.functions import Lower

from apps.core.models import BaseModel


# Audit history (apps.core.audit): a snapshot on insert and on every change of a field.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)))
class Organization(BaseModel):
    """A trading house or brokerage running its own desk on the shared deployment."""

    # Public code: what an applicant types to say which organization it applies to.
    code = models.CharField(
        max_length=20, unique=True, help_text="Public code, e.g. SCH. Upper-case letters, digits, dashes."
    )
    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    pan = models.CharField("PAN", max_length=10, blank=True)
    base_currency = models.CharField(max_length=3, default="INR")
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_name_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{1,19}$"), name="organization_code_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

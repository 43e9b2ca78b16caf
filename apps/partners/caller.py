"""An external caller's partner, cached per process under the user's caller version
(apps/core/caller_cache.py), and what replaces that version: any save or delete of a membership
(disabled, removed, another role or partner) for its user, and of a partner (suspended, blocked,
moved) for every user of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models.signals import post_delete, post_save

from apps.accounts.models import UserType
from apps.core.caller_cache import cached, caller_changed, caller_version
from apps.partners.models import BusinessPartner, PartnerMembership


@dataclass(frozen=True)
class CallerPartner:
    """An external user's active membership: its partner, the partner's organization and status."""

    membership_id: UUID
    partner_id: UUID
    organization_id: UUID
    role: str
    partner_status: str


def _load(user_id: Any) -> CallerPartner | None:
    row = (
        PartnerMembership.objects.filter(user_id=user_id, is_active=True)
        .values_list("id", "partner_id", "partner__organization_id", "role", "partner__status")
        .first()
    )
    return CallerPartner(*row) if row is not None else None


def caller_partner(user: Any) -> CallerPartner | None:
    """What membership_of(user) answers, as plain values, read once per caller version."""
    if getattr(user, "user_type", None) != UserType.EXTERNAL or not getattr(user, "pk", None):
        return None
    version = getattr(user, "_caller_version", None)  # read by the JWT authentication already
    if version is None:
        version, _ = caller_version(user.pk)
    return cached("partner", user.pk, version, lambda: _load(user.pk))


def _membership_changed(sender: Any, instance: PartnerMembership, **kwargs: Any) -> None:
    caller_changed([instance.user_id])


def _partner_changed(sender: Any, instance: BusinessPartner, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return  # nobody is a member of a partner yet
    caller_changed(PartnerMembership.objects.filter(partner_id=instance.pk).values_list("user_id", flat=True))


def connect_signals() -> None:
    # Cache upkeep, not business logic: whatever path changes a membership or a partner
    # (service, admin, shell), the cached answer must not outlive it.
    post_save.connect(_membership_changed, sender=PartnerMembership, dispatch_uid="partners.caller.membership_saved")
    post_delete.connect(
        _membership_changed, sender=PartnerMembership, dispatch_uid="partners.caller.membership_deleted"
    )
    post_save.connect(_partner_changed, sender=BusinessPartner, dispatch_uid="partners.caller.partner_saved")
    post_delete.connect(_partner_changed, sender=BusinessPartner, dispatch_uid="partners.caller.partner_deleted")

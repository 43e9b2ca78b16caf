"""A partner's trading capabilities: derived from its verified documents, overridable by staff.

`partner_recompute_capabilities` runs inside the caller's transaction, with the partner row
locked by the caller: document verification/rejection/expiry and KYC renewal call it; approval
stores `capabilities_at_approval` with the new row and announces it. `partner_override_capabilities` is the back office's own use case.

`partners.partner.capabilities_changed` {derived, override, effective, reason} is emitted only
when the effective set changes.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.capability_rules import (
    CAPABILITY_KEYS,
    Capabilities,
    derive_capabilities,
    effective_capabilities,
    no_capabilities,
    normalized,
)
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner, DocumentStatus, OnboardingApplication, PartnerDocument
from apps.partners.permissions import ensure_staff_capability

OVERRIDE_CAPABILITIES = "partners.override_capabilities"


def _verified_types(documents: QuerySet[PartnerDocument], *, today: date) -> set[str]:
    return set(
        documents.filter(status=DocumentStatus.VERIFIED)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .values_list("document_type", flat=True)
    )


def verified_document_types(partner_id: UUID, *, today: date) -> set[str]:
    """Types of the partner's VERIFIED documents that are not past their expiry date."""
    return _verified_types(PartnerDocument.objects.filter(partner_id=partner_id), today=today)


def capabilities_at_approval(application: OnboardingApplication, *, today: date) -> Capabilities:
    """What the application's verified documents grant the partner its approval creates (the
    documents move to the partner in that transaction): stored with the new row, no update."""
    return derive_capabilities(
        entity_class=application.entity_class,
        business_type=application.business_type,
        verified_document_types=_verified_types(
            PartnerDocument.objects.filter(application_id=application.pk), today=today
        ),
    )


def partner_capabilities_announce(partner: BusinessPartner, *, actor: User | None, reason: str) -> None:
    """For a partner just created with its capabilities: emit capabilities_changed unless the
    effective set is empty (a change from nothing)."""
    if normalized(partner.trading_capabilities) != no_capabilities():
        _emit_changed(partner, actor, reason)


def _emit_changed(partner: BusinessPartner, actor: User | None, reason: str) -> None:
    emit(
        events.PARTNER_CAPABILITIES_CHANGED,
        aggregate=partner,
        actor=actor,
        partner_id=partner.pk,
        payload={
            "derived": normalized(partner.derived_capabilities),
            "override": normalized(partner.capabilities_override)
            if partner.capabilities_override is not None
            else None,
            "effective": normalized(partner.trading_capabilities),
            "reason": reason,
        },
    )


def partner_recompute_capabilities(
    partner: BusinessPartner, *, actor: User | None = None, reason: str, today: date | None = None
) -> bool:
    """Derive the capabilities from the partner's documents again and store the derived and the
    effective set. Runs in the caller's transaction (the caller holds the partner's row lock).
    Emits partners.partner.capabilities_changed when the effective set changed; returns whether
    it did."""
    if not connection.in_atomic_block:
        raise RuntimeError("partner_recompute_capabilities() runs inside the caller's transaction")
    today = today or timezone.localdate()
    derived = derive_capabilities(
        entity_class=partner.entity_class,
        business_type=partner.business_type,
        verified_document_types=verified_document_types(partner.pk, today=today),
    )
    before = normalized(partner.trading_capabilities)
    effective = effective_capabilities(derived, partner.capabilities_override)
    if partner.derived_capabilities == derived and partner.trading_capabilities == effective:
        return False
    partner.derived_capabilities = derived
    partner.trading_capabilities = effective
    partner.save(update_fields=["derived_capabilities", "trading_capabilities", "updated_at"])
    if effective == before:
        return False
    _emit_changed(partner, actor, reason)
    return True


def _validated(capabilities: dict[str, Any]) -> Capabilities:
    if set(capabilities) != set(CAPABILITY_KEYS) or not all(isinstance(v, bool) for v in capabilities.values()):
        raise FieldInvalid(
            "capabilities",
            "invalid",
            f"An override names exactly {', '.join(CAPABILITY_KEYS)}, each true or false.",
        )
    return {key: capabilities[key] for key in CAPABILITY_KEYS}


def partner_override_capabilities(
    *, actor: User, partner_id: UUID, capabilities: dict[str, Any] | None, reason: str
) -> BusinessPartner:
    """Set (or, with None, clear) the staff override of a partner's capabilities, with a reason
    (required both ways; kept on the row, so the audit history shows why). Staff of the partner's
    organization with partners.override_capabilities (else 404 outside it, 403 without it).
    Emits partners.partner.capabilities_changed when the effective set changes."""
    reason = reason.strip()
    if not reason:
        raise FieldInvalid("reason", "required", "Say why the capabilities are overridden (or why the override ends).")
    override = _validated(capabilities) if capabilities is not None else None
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_staff_capability(actor, partner.organization_id, OVERRIDE_CAPABILITIES)
        before = normalized(partner.trading_capabilities)
        partner.capabilities_override = override
        partner.capabilities_override_reason = reason
        partner.trading_capabilities = effective_capabilities(partner.derived_capabilities, override)
        partner.save(
            update_fields=[
                "capabilities_override",
                "capabilities_override_reason",
                "trading_capabilities",
                "updated_at",
            ]
        )
        if partner.trading_capabilities != before:
            _emit_changed(partner, actor, reason)
    return partner

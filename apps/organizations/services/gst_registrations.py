"""Use cases of an organization's GST registrations: register a GSTIN, make it primary, (de)activate it."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.db.models import Q

from apps.core.actors import Actor
from apps.core.logging import get_logger
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    FieldInvalid,
    PrimaryGstRegistrationRequired,
)
from apps.organizations.locks import lock_child, lock_organization
from apps.organizations.models import (
    GstRegistration,
    Organization,
)
from apps.organizations.permissions import (
    ADD,
    CHANGE,
    GST_REGISTRATION,
    ensure_can_change_master_data,
)
from apps.organizations.services.common import (
    apply_changes,
    changed_fields,
    settle_flag,
    take_flag,
)
from apps.organizations.validators import (
    normalize_identifier,
    validate_gstin,
)

log = get_logger(__name__)

GST_REGISTRATION_UPDATABLE = frozenset({"is_primary", "is_active"})


def _organization_pan(organization: Organization) -> str:
    if not organization.pan:
        raise FieldInvalid(
            "gstin",
            "organization_pan_missing",
            "Record the organization's PAN before its GST registrations: a GSTIN contains the PAN.",
        )
    return organization.pan


def gst_registration_create(
    *, organization_id: UUID, gstin: str, is_primary: bool = False, actor: Actor | None = None
) -> GstRegistration:
    """Register a GSTIN: its pattern, state code, check digit and PAN (the organization's) are
    checked; the state comes from its first two digits. The first registration is primary;
    `is_primary=True` moves the flag from the current primary (which emits its own `updated`)."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=ADD, model=GST_REGISTRATION)
    gstin = normalize_identifier(gstin)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        state = validate_gstin(gstin, pan=_organization_pan(organization))
        if GstRegistration.objects.filter(organization=organization, gstin=gstin).exists():
            raise FieldInvalid("gstin", "unique", "The organization already has this GSTIN.")
        registration = GstRegistration(organization=organization, gstin=gstin, state=state.code, is_active=True)
        registration.is_primary = settle_flag(
            instance=registration,
            siblings=Q(organization=organization),
            flag="is_primary",
            new_active=True,
            new_flag=is_primary,
            flag_asked=is_primary,
            required=PrimaryGstRegistrationRequired,
        )
        if registration.is_primary:
            take_flag(
                GstRegistration,
                organization_id=organization.id,
                flag="is_primary",
                keep_pk=None,
                actor=actor,
                event_type=events.GST_REGISTRATION_UPDATED,
                payload=events.gst_registration_payload,
            )
        registration.save()
        emit(
            events.GST_REGISTRATION_CREATED,
            aggregate=registration,
            actor=actor,
            payload=events.gst_registration_payload(registration),
        )
    return registration


def gst_registration_update(
    *,
    organization_id: UUID,
    gst_registration_id: UUID,
    actor: Actor | None = None,
    is_primary: bool | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> GstRegistration:
    """Make a registration primary (the flag moves) or (de)activate it. The GSTIN never changes:
    register the new one. Refuses to leave active registrations without a primary (409)."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=CHANGE, model=GST_REGISTRATION)
    changes = given(is_primary=is_primary, is_active=is_active)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        registration = lock_child(
            GstRegistration, organization_id=organization.id, pk=gst_registration_id, what="GST registration"
        )
        if changes.get("is_active") and not registration.is_active:
            validate_gstin(registration.gstin, pan=_organization_pan(organization))
        new_active = changes.get("is_active", registration.is_active)
        changes["is_primary"] = settle_flag(
            instance=registration,
            siblings=Q(organization=organization),
            flag="is_primary",
            new_active=new_active,
            new_flag=changes.get("is_primary", registration.is_primary),
            flag_asked="is_primary" in changes,
            required=PrimaryGstRegistrationRequired,
        )
        changed = changed_fields(registration, changes)
        if not changed:
            return registration
        if changes["is_primary"]:
            take_flag(
                GstRegistration,
                organization_id=organization.id,
                flag="is_primary",
                keep_pk=registration.pk,
                actor=actor,
                event_type=events.GST_REGISTRATION_UPDATED,
                payload=events.gst_registration_payload,
            )
        apply_changes(registration, changed, changes)
        emit(
            events.GST_REGISTRATION_UPDATED,
            aggregate=registration,
            actor=actor,
            payload={**events.gst_registration_payload(registration), "changed": changed},
        )
    return registration

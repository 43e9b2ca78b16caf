"""Use cases of an organization's profile: create it, change it."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from apps.core.actors import Actor
from apps.core.india import STATES_BY_CODE
from apps.core.logging import get_logger
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    FieldInvalid,
)
from apps.organizations.locks import lock_organization
from apps.organizations.models import (
    GstRegistration,
    Organization,
)
from apps.organizations.permissions import (
    CHANGE,
    ORGANIZATION,
    ensure_can_add_organization,
    ensure_can_change_master_data,
)
from apps.organizations.services.common import (
    changed_fields,
    full_clean,
)
from apps.organizations.validators import (
    normalize_identifier,
    validate_cin,
    validate_pan,
)

log = get_logger(__name__)

PROFILE_FIELDS = frozenset(
    {
        "legal_name",
        "pan",
        "cin",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "pincode",
        "contact_email",
        "contact_phone",
    }
)
UPDATABLE_FIELDS = frozenset({"name", "base_currency", "is_active", "settings", *PROFILE_FIELDS})
_E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")


def clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    """Normalise and validate profile fields (upper-case identifiers, E.164 phone); field errors."""
    cleaned = dict(changes)
    _clean_identifiers(cleaned)
    _clean_contact(cleaned)
    if "name" in cleaned:
        cleaned["name"] = cleaned["name"].strip()
        if not cleaned["name"]:
            raise FieldInvalid("name", "blank", "An organization needs a name.")
    return cleaned


def _clean_identifiers(cleaned: dict[str, Any]) -> None:
    for field in ("pan", "cin", "state"):
        if field in cleaned:
            cleaned[field] = normalize_identifier(cleaned[field])
    if cleaned.get("pan"):
        validate_pan(cleaned["pan"])
    if cleaned.get("cin"):
        validate_cin(cleaned["cin"])
    if cleaned.get("state") and cleaned["state"] not in STATES_BY_CODE:
        raise FieldInvalid("state", "unknown_state", "Use the two-letter code of an Indian state or union territory.")
    if cleaned.get("pincode"):
        cleaned["pincode"] = cleaned["pincode"].strip()
        if not _PINCODE_RE.match(cleaned["pincode"]):
            raise FieldInvalid("pincode", "invalid_pincode", "A PIN code is 6 digits and does not start with 0.")


def _clean_contact(cleaned: dict[str, Any]) -> None:
    if cleaned.get("contact_email"):
        cleaned["contact_email"] = cleaned["contact_email"].strip().lower()
        try:
            validate_email(cleaned["contact_email"])
        except ValidationError:
            raise FieldInvalid("contact_email", "invalid_email", "Enter a valid e-mail address.") from None
    if cleaned.get("contact_phone"):
        phone = re.sub(r"[\s()-]", "", cleaned["contact_phone"])
        if re.fullmatch(r"[6-9]\d{9}", phone):
            phone = f"+91{phone}"
        elif re.fullmatch(r"0\d{10}", phone):  # Indian landline with its trunk prefix
            phone = f"+91{phone[1:]}"
        if not _E164_RE.match(phone):
            raise FieldInvalid(
                "contact_phone", "invalid_phone", "Enter the phone number with its country code, e.g. +912812345678."
            )
        cleaned["contact_phone"] = phone


def organization_create(
    *,
    code: str,
    name: str,
    legal_name: str = "",
    pan: str = "",
    cin: str | Unset = UNSET,
    address_line1: str | Unset = UNSET,
    address_line2: str | Unset = UNSET,
    city: str | Unset = UNSET,
    state: str | Unset = UNSET,
    pincode: str | Unset = UNSET,
    contact_email: str | Unset = UNSET,
    contact_phone: str | Unset = UNSET,
    actor: Actor | None = None,
) -> Organization:
    """Open a tenant (platform admins: `organizations.add_organization`)."""
    ensure_can_add_organization(actor)
    profile = given(
        cin=cin,
        address_line1=address_line1,
        address_line2=address_line2,
        city=city,
        state=state,
        pincode=pincode,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )
    cleaned = clean_profile({"name": name, "pan": pan, **profile})
    with transaction.atomic():
        organization = Organization(code=code.strip().upper(), legal_name=legal_name or name, **cleaned)
        full_clean(organization)
        organization.save()
        emit(
            events.ORGANIZATION_CREATED,
            aggregate=organization,
            organization_id=organization.id,
            actor=actor,
            payload=events.organization_payload(organization),
        )
    return organization


def organization_update(
    *,
    organization_id: UUID,
    actor: Actor | None = None,
    name: str | Unset = UNSET,
    base_currency: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    settings: dict[str, Any] | Unset = UNSET,
    legal_name: str | Unset = UNSET,
    pan: str | Unset = UNSET,
    cin: str | Unset = UNSET,
    address_line1: str | Unset = UNSET,
    address_line2: str | Unset = UNSET,
    city: str | Unset = UNSET,
    state: str | Unset = UNSET,
    pincode: str | Unset = UNSET,
    contact_email: str | Unset = UNSET,
    contact_phone: str | Unset = UNSET,
) -> Organization:
    """Change profile fields; emits `organizations.organization.updated` with what changed.

    Refuses a new PAN while active GST registrations carry the old one (a GSTIN contains its PAN).
    """
    ensure_can_change_master_data(actor, organization_id=organization_id, action=CHANGE, model=ORGANIZATION)
    changes = clean_profile(
        given(
            name=name,
            base_currency=base_currency,
            is_active=is_active,
            settings=settings,
            legal_name=legal_name,
            pan=pan,
            cin=cin,
            address_line1=address_line1,
            address_line2=address_line2,
            city=city,
            state=state,
            pincode=pincode,
            contact_email=contact_email,
            contact_phone=contact_phone,
        )
    )
    with transaction.atomic():
        organization = lock_organization(organization_id)
        changed = changed_fields(organization, changes)
        if not changed:
            return organization
        if "pan" in changed:
            active_gstins = GstRegistration.objects.filter(organization=organization, is_active=True)
            if any(gstin[2:12] != changes["pan"] for gstin in active_gstins.values_list("gstin", flat=True)):
                raise FieldInvalid(
                    "pan",
                    "pan_in_use_by_gstin",
                    "Active GST registrations of the organization carry another PAN; deactivate them first.",
                )
        for key in changed:
            setattr(organization, key, changes[key])
        full_clean(organization)
        organization.save(update_fields=[*changed, "updated_at"])
        emit(
            events.ORGANIZATION_UPDATED,
            aggregate=organization,
            organization_id=organization.id,
            actor=actor,
            payload={**events.organization_payload(organization), "changed": changed},
        )
    return organization

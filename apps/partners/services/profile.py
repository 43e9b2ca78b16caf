"""The partner's own profile: contact details and commodities of interest (SPEC section 6).

The owner (object permission partners.change_businesspartner) and staff holding that model
permission may change the contact fields below. Everything else on the partner (legal name, PAN,
GSTIN, bank, address, credit limit, status, capabilities ...) changes only through an amendment
approved by the back office or a back-office service: partner_profile_update takes none of them,
and a request naming one is refused whole where it is parsed (`ensure_profile_fields_only`, 400
field_requires_amendment), so nothing changes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from apps.accounts.errors import InvalidMobile
from apps.accounts.models import User
from apps.accounts.phone import normalize_mobile
from apps.commodities.models import Commodity
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.errors import FieldRequiresAmendment, UnknownFields
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner
from apps.partners.permissions import CHANGE_PARTNER, ensure_partner_permission

PROFILE_FIELDS = ("trade_name", "contact_name", "contact_email", "contact_phone", "commodity_ids")
# Every other field of the partner record: its legal, tax, bank, address, credit, status and
# capability data, and the read-only bookkeeping. Their names and column names both count.
AMENDMENT_ONLY_FIELDS = frozenset(
    name
    for field in BusinessPartner._meta.get_fields()
    if not field.auto_created or field.concrete
    for name in {field.name, getattr(field, "attname", field.name)}
) - {*PROFILE_FIELDS, "commodities"}  # `commodities` is spelled commodity_ids here

_MAX_LENGTHS = {"trade_name": 200, "contact_name": 200, "contact_email": 254}


def ensure_can_change_profile(actor: User, partner: BusinessPartner) -> None:
    """The partner's owner (refused while the partner is suspended or blocked) or staff of its
    organization with partners.change_businesspartner. Outside scope 404, else 403."""
    ensure_partner_permission(actor, partner, partner_perm=CHANGE_PARTNER, staff_perm=CHANGE_PARTNER, write=True)


def ensure_profile_fields_only(names: Iterable[str]) -> None:
    """Refuse a body that names anything but the profile fields: 400 field_requires_amendment
    for the partner's other fields, 400 validation_failed (unknown_field) for names it lacks."""
    names = set(names)
    amendment = sorted(names & AMENDMENT_ONLY_FIELDS)
    if amendment:
        raise FieldRequiresAmendment(
            f"These fields change only through an amendment approved by the back office: {', '.join(amendment)}. "
            f"The profile accepts {', '.join(PROFILE_FIELDS)}.",
            errors=[
                {"attr": name, "code": FieldRequiresAmendment.code, "detail": "Request an amendment to change this."}
                for name in amendment
            ],
        )
    unknown = sorted(names - set(PROFILE_FIELDS))
    if unknown:
        raise UnknownFields(
            errors=[
                {
                    "attr": name,
                    "code": "unknown_field",
                    "detail": f"No such field; the profile accepts {', '.join(PROFILE_FIELDS)}.",
                }
                for name in unknown
            ]
        )


def _clean_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldInvalid(name, "invalid", "A text value is required.")
    value = value.strip()
    if len(value) > _MAX_LENGTHS[name]:
        raise FieldInvalid(name, "max_length", f"At most {_MAX_LENGTHS[name]} characters.")
    return value


def _clean_phone(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldInvalid("contact_phone", "invalid", "A text value is required.")
    if not value.strip():
        return ""
    try:
        return normalize_mobile(value)
    except InvalidMobile:
        raise FieldInvalid("contact_phone", "invalid_phone", InvalidMobile.default_detail) from None


def _clean_email(value: Any) -> str:
    email = _clean_text("contact_email", value).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise FieldInvalid("contact_email", "invalid", "Enter a valid e-mail address.") from None
    return email


def _clean_commodities(value: Any) -> set[UUID]:
    try:
        wanted = {UUID(str(item)) for item in value}
    except (TypeError, ValueError):
        raise FieldInvalid("commodity_ids", "invalid", "A list of commodity ids is required.") from None
    active = set(Commodity.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    missing = sorted(str(pk) for pk in wanted - active)
    if missing:
        raise FieldInvalid("commodity_ids", "unknown_commodity", f"Not active commodities: {', '.join(missing)}.")
    return wanted


def _cleaned(changes: dict[str, Any]) -> dict[str, Any]:
    cleaners = {
        "trade_name": lambda v: _clean_text("trade_name", v),
        "contact_name": lambda v: _clean_text("contact_name", v),
        "contact_email": _clean_email,
        "contact_phone": _clean_phone,
        "commodity_ids": _clean_commodities,
    }
    return {name: cleaners[name](value) for name, value in changes.items()}


def partner_profile_update(
    *,
    actor: User,
    partner_id: UUID,
    trade_name: str | Unset = UNSET,
    contact_name: str | Unset = UNSET,
    contact_email: str | Unset = UNSET,
    contact_phone: str | Unset = UNSET,
    commodity_ids: Collection[UUID] | Unset = UNSET,
) -> BusinessPartner:
    """Change the partner's contact details and commodities of interest.

    Locks the partner row. Takes no other field of the partner: the API refuses a body naming one
    before parsing it (`ensure_profile_fields_only`, 400 field_requires_amendment). Refuses
    members without the change right or of a suspended/blocked partner (403), anyone outside
    scope (404). Emits partners.partner.updated with the names of the fields that changed (none:
    no event).
    """
    changes = given(
        trade_name=trade_name,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        commodity_ids=commodity_ids,
    )
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_change_profile(actor, partner)
        cleaned = _cleaned(changes)
        changed: list[str] = []
        wanted_commodities = cleaned.pop("commodity_ids", None)
        for name, value in cleaned.items():
            if getattr(partner, name) != value:
                setattr(partner, name, value)
                changed.append(name)
        if wanted_commodities is not None:
            current = set(partner.commodities.values_list("pk", flat=True))
            if current != wanted_commodities:
                partner.commodities.set(wanted_commodities)
                changed.append("commodity_ids")
        if changed:
            partner.save(update_fields=[name for name in changed if name != "commodity_ids"] + ["updated_at"])
            emit(
                events.PARTNER_UPDATED,
                aggregate=partner,
                actor=actor,
                partner_id=partner.pk,
                payload={"partner_id": str(partner.pk), "fields": sorted(changed)},
            )
    return partner

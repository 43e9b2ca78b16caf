"""Branches of a partner (SPEC section 6): where it receives and sends goods.

Writers are the partner's members holding `partners.change_businesspartner` on it (the owner;
refused while the partner is SUSPENDED or BLOCKED) and staff of its organization with that model
permission. Every write locks the partner row first, then its branches, so the one default
ship-to and one default ship-from move without two writers crossing. Events:
partners.branch.created, partners.branch.updated (with the changed field names; a branch that
loses a default flag emits its own), partners.branch.deactivated.

GST rules: a branch in another state than the partner's needs a GSTIN of that state carrying the
partner's PAN; a branch in the partner's state carries no GSTIN or the partner's own.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.core.india import STATES_BY_CODE, STATES_BY_GST_CODE
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.organizations.validators import normalize_identifier, validate_gstin
from apps.partners import events
from apps.partners.errors import (
    BranchCodeTaken,
    BranchInactive,
    BranchNotFound,
    DefaultBranchNotDeactivatable,
    DefaultShipFromRequired,
    DefaultShipToRequired,
    HeadOfficeExists,
    HeadOfficeNotDeactivatable,
)
from apps.partners.locks import lock_partner
from apps.partners.models import Branch, BranchType, BusinessPartner
from apps.partners.permissions import CHANGE_PARTNER, ensure_partner_permission

# What an update may change (every field of branch_update but the ids): the values a check of
# the branch as a whole (flags, GST, location) reads when only some of them are given.
BRANCH_UPDATABLE = (
    "name",
    "branch_type",
    "location_id",
    "address_line1",
    "city",
    "state_code",
    "pincode",
    "gstin",
    "can_receive",
    "can_send",
    "is_default_ship_to",
    "is_default_ship_from",
    "capacity_kg",
)

_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
_PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")

# (flag, capability it needs, error when its holder drops it)
_FLAGS: tuple[tuple[str, str, type[DefaultShipToRequired] | type[DefaultShipFromRequired]], ...] = (
    ("is_default_ship_to", "can_receive", DefaultShipToRequired),
    ("is_default_ship_from", "can_send", DefaultShipFromRequired),
)


# --- locks and helpers ----------------------------------------------------------------------------


def _lock_branch(partner: BusinessPartner, branch_id: UUID) -> Branch:
    branch = Branch.objects.select_for_update().filter(partner_id=partner.pk, pk=branch_id).first()
    if branch is None:
        raise BranchNotFound()
    return branch


def ensure_can_change_partner(actor: User, partner: BusinessPartner) -> None:
    ensure_partner_permission(actor, partner, partner_perm=CHANGE_PARTNER, staff_perm=CHANGE_PARTNER, write=True)


def partner_state_code(partner: BusinessPartner) -> str:
    """The GST state code of the partner: its primary address's, else its GSTIN's first two digits."""
    return partner.state_code or (partner.gstin[:2] if partner.gstin else "")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise values and check each given field on its own (field errors, 400)."""
    cleaned = dict(data)
    for field in ("name", "address_line1", "city", "state_code", "pincode"):
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    if "code" in cleaned:
        cleaned["code"] = normalize_identifier(cleaned["code"])
        if not _CODE_RE.match(cleaned["code"]):
            raise FieldInvalid(
                "code", "invalid_code", "A branch code is 1 to 20 letters, digits, dashes or underscores (e.g. WH-01)."
            )
    for field in ("name", "address_line1", "city"):
        if field in cleaned and not cleaned[field]:
            raise FieldInvalid(field, "blank", "This field may not be blank.")
    if "state_code" in cleaned and cleaned["state_code"] not in STATES_BY_GST_CODE:
        raise FieldInvalid(
            "state_code",
            "unknown_gst_state_code",
            "The state code is the 2-digit GST code of an Indian state or union territory (e.g. 24 for Gujarat).",
        )
    if "pincode" in cleaned and not _PINCODE_RE.match(cleaned["pincode"]):
        raise FieldInvalid("pincode", "invalid_pincode", "A pincode is 6 digits and does not start with 0.")
    if "gstin" in cleaned:
        cleaned["gstin"] = normalize_identifier(cleaned["gstin"] or "") or None
    if "branch_type" in cleaned and cleaned["branch_type"] not in BranchType.values:
        raise FieldInvalid("branch_type", "invalid_choice", f"Choose one of {', '.join(BranchType.values)}.")
    if cleaned.get("capacity_kg") is not None:
        cleaned["capacity_kg"] = positive_kg(cleaned["capacity_kg"], attr="capacity_kg")
    return cleaned


def positive_kg(value: Any, *, attr: str) -> Decimal:
    """A quantity in kg greater than zero, as a Decimal (never a float)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise FieldInvalid(attr, "invalid", "Give the quantity in kg as a decimal number.")
    try:
        quantity = Decimal(value)
    except ArithmeticError:
        raise FieldInvalid(attr, "invalid", "Give the quantity in kg as a decimal number.") from None
    if not quantity.is_finite() or quantity <= 0:
        raise FieldInvalid(attr, "not_positive", "The capacity is a quantity in kg greater than zero.")
    return quantity


def _check_gst(partner: BusinessPartner, *, state_code: str, gstin: str | None) -> None:
    """The branch's GSTIN against its state and the partner (field errors on `gstin`)."""
    home = partner_state_code(partner)
    if home and state_code == home:
        if gstin is not None and gstin != partner.gstin:
            raise FieldInvalid(
                "gstin",
                "gstin_not_the_partners",
                "A branch in the partner's own state uses the partner's GSTIN: leave it empty or give that one.",
            )
        return
    if gstin is None:
        if home:
            raise FieldInvalid(
                "gstin",
                "gstin_required_for_other_state",
                "A branch in another state than the partner's needs its GSTIN registered in that state.",
            )
        return
    if not partner.pan:
        raise FieldInvalid(
            "gstin", "partner_pan_missing", "The partner has no PAN on record, so a branch GSTIN cannot be checked."
        )
    validate_gstin(gstin, pan=partner.pan)
    if gstin[:2] != state_code:
        raise FieldInvalid(
            "gstin",
            "gstin_state_mismatch",
            f"The GSTIN is registered in state {gstin[:2]}, but the branch is in state {state_code}.",
        )


def _check_location(location_id: UUID, *, state_code: str, lock: bool) -> None:
    """The location exists and is active (taken FOR SHARE when newly referenced, so a concurrent
    deactivation of it waits and counts this branch) and lies in the branch's state."""
    from apps.locations.locks import lock_location_for_reference
    from apps.locations.models import Location

    location = lock_location_for_reference(location_id) if lock else Location.objects.filter(pk=location_id).first()
    if location is None or location.country != "IN":
        return
    state = STATES_BY_CODE.get(location.state_code)
    if state is not None and STATES_BY_GST_CODE.get(state_code) != state:
        raise FieldInvalid(
            "location_id",
            "location_state_mismatch",
            f"The location is in {state.name} (GST state code {state.gst_code}), not in the branch's state {state_code}.",
        )


def _check_flags(values: dict[str, Any], *, was: dict[str, bool], asked: set[str]) -> None:
    """A default flag needs its capability; its holder may not drop it (it moves by setting it on
    another branch)."""
    for flag, capability, required in _FLAGS:
        if was.get(flag) and flag in asked and not values[flag]:
            raise required()
        if values[flag] and not values[capability]:
            attr = capability if capability in asked and flag not in asked else flag
            needs = "receive" if capability == "can_receive" else "send"
            raise FieldInvalid(
                attr,
                f"{flag.removeprefix('is_')}_needs_{capability}",
                f"The default {flag.removeprefix('is_default_').replace('_', '-')} branch must be able to {needs} goods.",
            )


def _payload(branch: Branch, **extra: Any) -> dict[str, Any]:
    return {"branch_id": str(branch.pk), "partner_id": str(branch.partner_id), "code": branch.code, **extra}


def _emit(event_type: str, branch: Branch, partner: BusinessPartner, actor: User | None, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=branch,
        actor=actor,
        organization_id=partner.organization_id,
        partner_id=partner.pk,
        payload=_payload(branch, **extra),
    )


def _take_flag(partner: BusinessPartner, flag: str, *, keep_pk: UUID, actor: User | None) -> None:
    """Clear `flag` on the partner's other branches (before it is set on `keep_pk`: the partial
    unique index is checked per statement). Each branch that loses it emits its own update."""
    losers = Branch.objects.select_for_update().filter(partner_id=partner.pk, **{flag: True}).exclude(pk=keep_pk)
    for loser in losers:
        setattr(loser, flag, False)
        loser.save(update_fields=[flag, "updated_at"])
        _emit(events.BRANCH_UPDATED, loser, partner, actor, fields=[flag])


def _ensure_no_other_head_office(partner: BusinessPartner, *, exclude_pk: UUID | None) -> None:
    head_offices = Branch.objects.filter(partner_id=partner.pk, branch_type=BranchType.HEAD_OFFICE, is_active=True)
    if exclude_pk is not None:
        head_offices = head_offices.exclude(pk=exclude_pk)
    if head_offices.exists():
        raise HeadOfficeExists()


def _translate_integrity_error(exc: IntegrityError) -> None:
    if "branch_code_unique_per_partner" in str(exc):
        raise BranchCodeTaken() from exc


# --- use cases ------------------------------------------------------------------------------------


def branch_create(
    *,
    actor: User,
    partner_id: UUID,
    code: str,
    name: str,
    branch_type: str,
    address_line1: str,
    city: str,
    state_code: str,
    pincode: str,
    location_id: UUID | None = None,
    gstin: str | None = None,
    can_receive: bool = True,
    can_send: bool = True,
    is_default_ship_to: bool = False,
    is_default_ship_from: bool = False,
    capacity_kg: Decimal | None = None,
) -> Branch:
    """Add a branch. Refuses a taken code (409 branch_code_taken), a second active head office
    (409 head_office_exists), bad addresses and GSTINs (400; a blank required field is one). A
    default flag asked for moves from the branch holding it. Emits partners.branch.created."""
    cleaned = _clean(
        {
            "code": code,
            "name": name,
            "branch_type": branch_type,
            "location_id": location_id,
            "address_line1": address_line1,
            "city": city,
            "state_code": state_code,
            "pincode": pincode,
            "gstin": gstin,
            "can_receive": can_receive,
            "can_send": can_send,
            "is_default_ship_to": is_default_ship_to,
            "is_default_ship_from": is_default_ship_from,
            "capacity_kg": capacity_kg,
        }
    )
    try:
        with transaction.atomic():
            partner = lock_partner(partner_id)
            ensure_can_change_partner(actor, partner)
            branch = Branch(partner=partner, **cleaned)
            _check_gst(partner, state_code=branch.state_code, gstin=branch.gstin)
            _check_flags(
                {
                    key: getattr(branch, key)
                    for key in ("is_default_ship_to", "is_default_ship_from", "can_receive", "can_send")
                },
                was={},
                asked=set(cleaned),
            )
            if Branch.objects.filter(partner_id=partner.pk, code=branch.code).exists():
                raise BranchCodeTaken()
            if branch.branch_type == BranchType.HEAD_OFFICE:
                _ensure_no_other_head_office(partner, exclude_pk=None)
            if branch.location_id is not None:
                _check_location(branch.location_id, state_code=branch.state_code, lock=True)
            for flag, _capability, _required in _FLAGS:
                if getattr(branch, flag):
                    _take_flag(partner, flag, keep_pk=branch.pk, actor=actor)
            branch.save()
            _emit(
                events.BRANCH_CREATED,
                branch,
                partner,
                actor,
                branch_type=branch.branch_type,
                state_code=branch.state_code,
                can_receive=branch.can_receive,
                can_send=branch.can_send,
                is_default_ship_to=branch.is_default_ship_to,
                is_default_ship_from=branch.is_default_ship_from,
            )
    except IntegrityError as exc:
        _translate_integrity_error(exc)
        raise
    return branch


def branch_update(
    *,
    actor: User,
    partner_id: UUID,
    branch_id: UUID,
    name: str | Unset = UNSET,
    branch_type: str | Unset = UNSET,
    location_id: UUID | Unset | None = UNSET,
    address_line1: str | Unset = UNSET,
    city: str | Unset = UNSET,
    state_code: str | Unset = UNSET,
    pincode: str | Unset = UNSET,
    gstin: str | Unset | None = UNSET,
    can_receive: bool | Unset = UNSET,
    can_send: bool | Unset = UNSET,
    is_default_ship_to: bool | Unset = UNSET,
    is_default_ship_from: bool | Unset = UNSET,
    capacity_kg: Decimal | Unset | None = UNSET,
) -> Branch:
    """Change the given fields of a branch (its code stays). The head office stays the head office
    and no other branch becomes one. Setting a default flag moves it here from the branch holding
    it (which emits its own update); clearing it on its holder is refused (409
    default_ship_to_required / default_ship_from_required). Emits partners.branch.updated listing
    the changed fields."""
    cleaned = _clean(
        given(
            name=name,
            branch_type=branch_type,
            location_id=location_id,
            address_line1=address_line1,
            city=city,
            state_code=state_code,
            pincode=pincode,
            gstin=gstin,
            can_receive=can_receive,
            can_send=can_send,
            is_default_ship_to=is_default_ship_to,
            is_default_ship_from=is_default_ship_from,
            capacity_kg=capacity_kg,
        )
    )
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_change_partner(actor, partner)
        branch = _lock_branch(partner, branch_id)
        if not branch.is_active:
            raise BranchInactive()
        changed = {key: value for key, value in cleaned.items() if getattr(branch, key) != value}
        if "branch_type" in changed and BranchType.HEAD_OFFICE in (branch.branch_type, changed["branch_type"]):
            if branch.branch_type == BranchType.HEAD_OFFICE:
                raise FieldInvalid(
                    "branch_type", "head_office_type_fixed", "The head office stays the head office of the partner."
                )
            _ensure_no_other_head_office(partner, exclude_pk=branch.pk)
        merged = {key: cleaned.get(key, getattr(branch, key)) for key in BRANCH_UPDATABLE}
        _check_flags(
            merged,
            was={flag: getattr(branch, flag) for flag, _capability, _required in _FLAGS},
            asked=set(cleaned),
        )
        if {"state_code", "gstin"} & set(changed):
            _check_gst(partner, state_code=merged["state_code"], gstin=merged["gstin"])
        if merged["location_id"] is not None and {"location_id", "state_code"} & set(changed):
            _check_location(merged["location_id"], state_code=merged["state_code"], lock="location_id" in changed)
        if not changed:
            return branch
        for flag, _capability, _required in _FLAGS:
            if changed.get(flag):
                _take_flag(partner, flag, keep_pk=branch.pk, actor=actor)
        for key, value in changed.items():
            setattr(branch, key, value)
        branch.save(update_fields=[*changed, "updated_at"])
        _emit(events.BRANCH_UPDATED, branch, partner, actor, fields=sorted(changed))
    return branch


def branch_deactivate(*, actor: User, partner_id: UUID, branch_id: UUID) -> Branch:
    """Deactivate a branch. Refuses the head office (409 head_office_cannot_be_deactivated), a
    default ship-to or ship-from (409 default_branch_cannot_be_deactivated) and an inactive branch
    (409 branch_inactive). Emits partners.branch.deactivated."""
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_change_partner(actor, partner)
        branch = _lock_branch(partner, branch_id)
        if not branch.is_active:
            raise BranchInactive("The branch is already deactivated.")
        if branch.branch_type == BranchType.HEAD_OFFICE:
            raise HeadOfficeNotDeactivatable()
        held = [
            name
            for flag, name in (("is_default_ship_to", "ship-to"), ("is_default_ship_from", "ship-from"))
            if getattr(branch, flag)
        ]
        if held:
            raise DefaultBranchNotDeactivatable(
                f"The branch is the partner's default {' and '.join(held)}: make another branch the default first."
            )
        branch.is_active = False
        branch.save(update_fields=["is_active", "updated_at"])
        _emit(events.BRANCH_DEACTIVATED, branch, partner, actor)
    return branch

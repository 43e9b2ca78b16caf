"""Amendments of an approved partner (SPEC section 6): bank details, GST registration, address,
legal name and PAN, credit limit increase.

The partner's owner (or staff holding partners.change_businesspartner, keying it for the
partner) requests a change; it is applied only when staff of the partner's organization holding
partners.decide_amendment approve it, and never by the staff member who keyed it
(maker-checker). The partner's current values are captured as `old_values` at request time and
compared again at approval: if they moved meanwhile the amendment is stale and nothing changes.
A BANK request freezes the partner's payouts until it is approved, rejected or cancelled.

Fields per kind (`new_values`):
- BANK: bank_account_holder, bank_account_number (9-18 digits), bank_ifsc.
- GST: gstin (its PAN part is the partner's PAN; unique among active partners). The head-office
  branch, and every active branch carrying the old GSTIN, take the new one.
- ADDRESS: address_line1, city, state_code (GST state code), pincode; `location` optional: an
  active location's id, or null to clear it. Omitted, the current location stays (it must then
  lie in the new state).
- LEGAL: legal_name, pan. A new PAN invalidates the partner's GSTIN, so a PAN change of a partner
  with a GSTIN must carry the new `gstin` (whose PAN part is the new PAN) in the same amendment;
  `gstin` is refused when the PAN does not change (that is a GST amendment). Other-state branches
  holding GSTINs of the old PAN refuse the change (409 branch_gstins_on_old_pan).
- CREDIT_LIMIT: credit_limit, a decimal greater than the current limit.

Locking order: the partner row, then the amendment, then branches, then a location FOR SHARE.
Events carry the amendment id, kind and the names of the changed fields, never their values
(a bank account number never leaves the database unmasked).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User, UserType
from apps.core.errors import PermissionDenied
from apps.core.india import STATES_BY_CODE, STATES_BY_GST_CODE
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.organizations.models import mask_account_number
from apps.organizations.validators import (
    normalize_identifier,
    validate_bank_account_number,
    validate_gstin,
    validate_ifsc,
    validate_pan,
)
from apps.partners import events
from apps.partners.errors import (
    AmendmentAlreadyPending,
    AmendmentNotFound,
    AmendmentNotPending,
    AmendmentStale,
    AmendmentValuesInvalid,
    AmendmentWithoutChange,
    BranchGstinsOnOldPan,
    DuplicateActiveGstin,
    MakerCheckerViolation,
)
from apps.partners.locks import lock_partner
from apps.partners.models import (
    AmendmentKind,
    AmendmentStatus,
    Branch,
    BranchType,
    BusinessPartner,
    BusinessType,
    PartnerAmendment,
    PartnerStatus,
)
from apps.partners.permissions import CHANGE_PARTNER, ensure_partner_permission, is_member_of, is_staff_of

DECIDE_AMENDMENT = "partners.decide_amendment"
REASON_MAX_LENGTH = 500

# Required fields of each kind, then the optional ones.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    AmendmentKind.BANK: ("bank_account_holder", "bank_account_number", "bank_ifsc"),
    AmendmentKind.GST: ("gstin",),
    AmendmentKind.ADDRESS: ("address_line1", "city", "state_code", "pincode"),
    AmendmentKind.LEGAL: ("legal_name", "pan"),
    AmendmentKind.CREDIT_LIMIT: ("credit_limit",),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {AmendmentKind.ADDRESS: ("location",), AmendmentKind.LEGAL: ("gstin",)}

_PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")
_CENT = Decimal("0.01")
_CREDIT_LIMIT_MAX = Decimal("99999999999999.99")  # max_digits=16, decimal_places=2
_TEXT_MAX_LENGTHS = {"bank_account_holder": 200, "address_line1": 200, "city": 100, "legal_name": 200}
_GSTIN_UNIQUE_CONSTRAINT = "partner_gstin_unique_among_active"
_PENDING_UNIQUE_CONSTRAINT = "amendment_one_pending_per_kind"


def _attr(name: str) -> str:
    return f"new_values.{name}"


# --- locks and rights -------------------------------------------------------------------------


def _lock(amendment_id: UUID) -> tuple[BusinessPartner, PartnerAmendment]:
    """Lock the amendment's partner, then the amendment (the order every write here keeps)."""
    partner_id = PartnerAmendment.objects.filter(pk=amendment_id).values_list("partner_id", flat=True).first()
    if partner_id is None:
        raise AmendmentNotFound()
    partner = lock_partner(partner_id)
    amendment = (
        PartnerAmendment.objects.select_for_update()
        .select_related("requested_by")
        .get(pk=amendment_id, partner_id=partner.pk)
    )
    return partner, amendment


def ensure_can_request(actor: User, partner: BusinessPartner) -> None:
    """The partner's owner (refused while the partner is suspended or blocked: 403) or staff of its
    organization holding partners.change_businesspartner. Outside scope 404, else 403."""
    ensure_partner_permission(actor, partner, partner_perm=CHANGE_PARTNER, staff_perm=CHANGE_PARTNER, write=True)


def ensure_can_decide(actor: User, partner: BusinessPartner) -> None:
    """Staff of the partner's organization holding partners.decide_amendment. The partner's own
    users see the amendment but may not decide it (403); anyone else: 404."""
    if is_staff_of(actor, partner.organization_id):
        if not actor.has_perm(DECIDE_AMENDMENT):
            raise PermissionDenied(f"Deciding amendments needs the {DECIDE_AMENDMENT} capability.")
        return
    if is_member_of(actor, partner):
        raise PermissionDenied("Amendments are decided by the back office.")
    raise AmendmentNotFound()


def _keyed_by_staff(amendment: PartnerAmendment) -> bool:
    return amendment.requested_by.user_type in (UserType.INTERNAL, UserType.SUPER_ADMIN)


def ensure_can_cancel(actor: User, partner: BusinessPartner, amendment: PartnerAmendment) -> None:
    """The side that requested it: the partner's owner for the partner's own requests (not while
    the partner is suspended or blocked), staff holding partners.change_businesspartner for
    amendments staff keyed. The other side: 403 (staff reject instead). Anyone else: 404."""
    if is_staff_of(actor, partner.organization_id):
        if not _keyed_by_staff(amendment):
            raise PermissionDenied("The partner requested this amendment: the back office rejects it, not cancels.")
        if not actor.has_perm(CHANGE_PARTNER):
            raise PermissionDenied(f"Cancelling an amendment needs the {CHANGE_PARTNER} capability.")
        return
    if not is_member_of(actor, partner):
        raise AmendmentNotFound()
    if _keyed_by_staff(amendment):
        raise PermissionDenied("The back office keyed this amendment; only the back office may cancel it.")
    ensure_partner_permission(actor, partner, partner_perm=CHANGE_PARTNER, staff_perm=None, write=True)


# --- values -------------------------------------------------------------------------------------


def current_value(partner: BusinessPartner, field: str) -> Any:
    """The partner's value of an amendment field, in the JSON form amendments store."""
    if field == "location":
        return str(partner.location_id) if partner.location_id else None
    if field == "credit_limit":
        return str(Decimal(partner.credit_limit).quantize(_CENT))
    return getattr(partner, field)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldInvalid(_attr(name), "invalid", "A text value is required.")
    value = " ".join(value.split())
    if not value:
        raise FieldInvalid(_attr(name), "blank", "This field may not be blank.")
    if len(value) > _TEXT_MAX_LENGTHS[name]:
        raise FieldInvalid(_attr(name), "max_length", f"At most {_TEXT_MAX_LENGTHS[name]} characters.")
    return value


def _identifier(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldInvalid(_attr(name), "invalid", "A text value is required.")
    return normalize_identifier(value)


def _account_number(value: Any) -> str:
    number = _identifier("bank_account_number", value)
    validate_bank_account_number(number, attr=_attr("bank_account_number"))
    return number


def _ifsc(value: Any) -> str:
    ifsc = _identifier("bank_ifsc", value)
    validate_ifsc(ifsc, attr=_attr("bank_ifsc"))
    return ifsc


def _gstin(value: Any) -> str:
    gstin = _identifier("gstin", value)
    validate_gstin(gstin, attr=_attr("gstin"))
    return gstin


def _pan(value: Any) -> str:
    # Blank only for a foreign entity (checked with the partner in _check_kind).
    pan = _identifier("pan", value)
    if pan:
        validate_pan(pan, attr=_attr("pan"))
    return pan


def _state_code(value: Any) -> str:
    code = value.strip() if isinstance(value, str) else ""
    if code not in STATES_BY_GST_CODE:
        raise FieldInvalid(
            _attr("state_code"),
            "unknown_gst_state_code",
            "The state code is the 2-digit GST code of an Indian state or union territory (e.g. 24 for Gujarat).",
        )
    return code


def _pincode(value: Any) -> str:
    pincode = value.strip() if isinstance(value, str) else ""
    if not _PINCODE_RE.match(pincode):
        raise FieldInvalid(_attr("pincode"), "invalid_pincode", "A pincode is 6 digits and does not start with 0.")
    return pincode


def _location(value: Any) -> str | None:
    from apps.locations.models import Location

    if value is None:
        return None
    try:
        location_id = UUID(str(value))
    except ValueError:
        raise FieldInvalid(_attr("location"), "invalid", "A location id (UUID) or null is required.") from None
    if not Location.objects.filter(pk=location_id, is_active=True).exists():
        raise FieldInvalid(_attr("location"), "unknown_location", "No active location has this id.")
    return str(location_id)


def _credit_limit(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise FieldInvalid(_attr("credit_limit"), "invalid", 'Give the credit limit as a decimal, e.g. "2500000.00".')
    try:
        # A JSON number arrives as a float: its shortest repr is exactly what the client wrote.
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise FieldInvalid(
            _attr("credit_limit"), "invalid", 'Give the credit limit as a decimal, e.g. "2500000.00".'
        ) from None
    if not amount.is_finite() or amount < 0 or amount > _CREDIT_LIMIT_MAX:
        raise FieldInvalid(
            _attr("credit_limit"), "out_of_range", "The credit limit is between 0 and 99999999999999.99."
        )
    if amount != amount.quantize(_CENT):
        raise FieldInvalid(_attr("credit_limit"), "max_decimal_places", "At most 2 decimal places (paise).")
    return str(amount.quantize(_CENT))


_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "bank_account_holder": lambda v: _text("bank_account_holder", v),
    "bank_account_number": _account_number,
    "bank_ifsc": _ifsc,
    "gstin": _gstin,
    "address_line1": lambda v: _text("address_line1", v),
    "city": lambda v: _text("city", v),
    "state_code": _state_code,
    "pincode": _pincode,
    "location": _location,
    "legal_name": lambda v: _text("legal_name", v),
    "pan": _pan,
    "credit_limit": _credit_limit,
}


def _cleaned(kind: str, raw: Any) -> dict[str, Any]:
    """Each field of `raw` checked on its own: unknown and missing fields, then each value. Every
    problem is listed (400 validation_failed, attrs `new_values.<field>`)."""
    if not isinstance(raw, dict):
        raise AmendmentValuesInvalid(
            errors=[{"attr": "new_values", "code": "invalid", "detail": "An object of field values is required."}]
        )
    required, optional = KIND_FIELDS[kind], OPTIONAL_FIELDS.get(kind, ())
    accepted = ", ".join((*required, *optional))
    errors: list[dict[str, Any]] = [
        {"attr": _attr(name), "code": "unknown_field", "detail": f"A {kind} amendment takes {accepted}."}
        for name in sorted(set(raw) - {*required, *optional})
    ]
    errors += [
        {"attr": _attr(name), "code": "required", "detail": f"A {kind} amendment needs {name}."}
        for name in required
        if name not in raw
    ]
    cleaned: dict[str, Any] = {}
    if not errors:
        for name, value in raw.items():
            try:
                cleaned[name] = _CLEANERS[name](value)
            except FieldInvalid as exc:
                errors.extend(exc.errors)
    if errors:
        raise AmendmentValuesInvalid(errors=errors)
    return cleaned


def _refuse_field(name: str, code: str, detail: str) -> None:
    raise AmendmentValuesInvalid(detail, errors=[{"attr": _attr(name), "code": code, "detail": detail}])


def _location_state_check(location_id: str | None, state_code: str) -> None:
    from apps.locations.models import Location

    if location_id is None:
        return
    location = Location.objects.filter(pk=location_id).first()
    if location is None or location.country != "IN":
        return
    state = STATES_BY_CODE.get(location.state_code)
    if state is not None and STATES_BY_GST_CODE.get(state_code) != state:
        _refuse_field(
            "location",
            "location_state_mismatch",
            f"The location is in {state.name} (GST state code {state.gst_code}), not in state {state_code}: "
            "give the location of the new address, or null.",
        )


def _ensure_gstin_free(gstin: str, partner: BusinessPartner) -> None:
    if BusinessPartner.objects.filter(gstin=gstin, status=PartnerStatus.ACTIVE).exclude(pk=partner.pk).exists():
        raise DuplicateActiveGstin()


def _ensure_no_branch_gstin_on_pan(partner: BusinessPartner) -> None:
    """Other-state branches carry GSTINs whose PAN part is the partner's PAN: they cannot survive
    a PAN change (their GSTINs would no longer match)."""
    branches = (
        Branch.objects.filter(partner_id=partner.pk, is_active=True, gstin__isnull=False)
        .exclude(gstin=partner.gstin)
        .order_by("code")
    )
    codes = [branch.code for branch in branches if partner.pan and (branch.gstin or "")[2:12] == partner.pan]
    if codes:
        raise BranchGstinsOnOldPan(
            f"Branches {', '.join(codes)} carry GSTINs of the partner's current PAN; deactivate them before the "
            "PAN changes."
        )


def _check_kind(partner: BusinessPartner, kind: str, values: dict[str, Any]) -> None:
    """The checks that need the partner (and the rest of the database). Run at request time and
    again at approval, against the partner as it is then."""
    if kind == AmendmentKind.GST:
        if not partner.pan:
            _refuse_field("gstin", "partner_pan_missing", "The partner has no PAN on record: amend its PAN first.")
        validate_gstin(values["gstin"], pan=partner.pan, attr=_attr("gstin"))
        _ensure_gstin_free(values["gstin"], partner)
    elif kind == AmendmentKind.LEGAL:
        pan = values["pan"]
        foreign = partner.business_type == BusinessType.FOREIGN_ENTITY
        if not pan and not foreign:
            _refuse_field("pan", "blank", "An Indian partner has a PAN.")
        if pan == partner.pan:
            if "gstin" in values:
                _refuse_field(
                    "gstin", "gstin_needs_gst_amendment", "The PAN does not change: request a GST amendment instead."
                )
            return
        if partner.gstin and "gstin" not in values:
            _refuse_field(
                "gstin",
                "required_with_pan_change",
                "The partner's GSTIN contains its PAN: a PAN change carries the new GSTIN (of the new PAN).",
            )
        if "gstin" in values:
            validate_gstin(values["gstin"], pan=pan, attr=_attr("gstin"))
            _ensure_gstin_free(values["gstin"], partner)
        _ensure_no_branch_gstin_on_pan(partner)
    elif kind == AmendmentKind.ADDRESS:
        location = values["location"] if "location" in values else current_value(partner, "location")
        _location_state_check(location, values["state_code"])
    elif kind == AmendmentKind.CREDIT_LIMIT:
        current = Decimal(partner.credit_limit)
        if Decimal(values["credit_limit"]) <= current:
            _refuse_field(
                "credit_limit",
                "not_an_increase",
                f"An amendment increases the credit limit: give more than the current {current.quantize(_CENT)}.",
            )


def masked_values(values: dict[str, Any]) -> dict[str, Any]:
    """An amendment's values as shown outside the database (API, admin): the bank account number
    as `***1234`."""
    return {
        name: mask_account_number(value) if name == "bank_account_number" else value for name, value in values.items()
    }


def changed_fields(amendment: PartnerAmendment) -> list[str]:
    """The fields whose new value differs from the old one, sorted."""
    return sorted(name for name, value in amendment.new_values.items() if amendment.old_values.get(name) != value)


# --- events -------------------------------------------------------------------------------------


def _emit(
    event_type: str, amendment: PartnerAmendment, partner: BusinessPartner, actor: User | None, **extra: Any
) -> None:
    emit(
        event_type,
        aggregate=amendment,
        actor=actor,
        organization_id=partner.organization_id,
        partner_id=partner.pk,
        payload={
            "amendment_id": str(amendment.pk),
            "partner_id": str(partner.pk),
            "kind": amendment.kind,
            "fields": changed_fields(amendment),
            **extra,
        },
    )


def _emit_partner_updated(
    partner: BusinessPartner, actor: User | None, fields: list[str], amendment: PartnerAmendment
) -> None:
    emit(
        events.PARTNER_UPDATED,
        aggregate=partner,
        actor=actor,
        partner_id=partner.pk,
        payload={"partner_id": str(partner.pk), "fields": sorted(fields), "amendment_id": str(amendment.pk)},
    )


def _set_payouts_frozen(partner: BusinessPartner, frozen: bool) -> bool:
    """Freeze or unfreeze the partner's payouts; whether that changed anything."""
    if partner.payouts_frozen == frozen:
        return False
    partner.payouts_frozen = frozen
    partner.save(update_fields=["payouts_frozen", "updated_at"])
    return True


# --- use cases ------------------------------------------------------------------------------------


def amendment_request(
    *, actor: User, partner_id: UUID, kind: str, new_values: dict[str, Any], reason: str = ""
) -> PartnerAmendment:
    """Ask for a change of the partner's bank, GST, address, legal or credit data.

    Locks the partner. Refuses outsiders (404), members without the change right or of a
    suspended/blocked partner and staff without partners.change_businesspartner (403), unknown,
    missing or invalid fields (400 validation_failed), values equal to the current ones (400
    amendment_without_change), a second PENDING amendment of the kind (409
    amendment_already_pending, also when two requests race), a GSTIN of another active partner
    (409 duplicate_active_gstin). Captures the current values as `old_values`; a BANK request
    freezes payouts. Emits partners.amendment.requested (and partners.partner.updated when
    payouts freeze).
    """
    if kind not in AmendmentKind.values:
        raise FieldInvalid("kind", "invalid_choice", f"The kind is one of {', '.join(AmendmentKind.values)}.")
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX_LENGTH:
        raise FieldInvalid("reason", "max_length", f"At most {REASON_MAX_LENGTH} characters.")
    try:
        with transaction.atomic():
            partner = lock_partner(partner_id)
            ensure_can_request(actor, partner)
            values = _cleaned(kind, new_values)
            if kind == AmendmentKind.ADDRESS and "location" not in values:
                values["location"] = current_value(partner, "location")
            old_values = {name: current_value(partner, name) for name in values}
            if values == old_values:
                raise AmendmentWithoutChange()
            _check_kind(partner, kind, values)
            if PartnerAmendment.objects.filter(
                partner_id=partner.pk, kind=kind, status=AmendmentStatus.PENDING
            ).exists():
                raise AmendmentAlreadyPending()
            amendment = PartnerAmendment.objects.create(
                partner=partner,
                kind=kind,
                old_values=old_values,
                new_values=values,
                reason=reason,
                requested_by=actor,
            )
            froze = kind == AmendmentKind.BANK and _set_payouts_frozen(partner, True)
            extra = {"payouts_frozen": partner.payouts_frozen} if kind == AmendmentKind.BANK else {}
            _emit(events.AMENDMENT_REQUESTED, amendment, partner, actor, **extra)
            if froze:
                _emit_partner_updated(partner, actor, ["payouts_frozen"], amendment)
    except IntegrityError as exc:
        if _PENDING_UNIQUE_CONSTRAINT in str(exc):
            raise AmendmentAlreadyPending() from exc
        raise
    return amendment


def _move_gstin(partner: BusinessPartner, old: str, new: str, actor: User | None) -> None:
    """The head office, and every active branch carrying the partner's old GSTIN, take the new one.
    Each branch changed emits partners.branch.updated."""
    holders = Q(branch_type=BranchType.HEAD_OFFICE)
    if old:
        holders |= Q(gstin=old)
    for branch in Branch.objects.select_for_update().filter(holders, partner_id=partner.pk, is_active=True):
        if branch.gstin == new:
            continue
        branch.gstin = new
        branch.save(update_fields=["gstin", "updated_at"])
        emit(
            events.BRANCH_UPDATED,
            aggregate=branch,
            actor=actor,
            organization_id=partner.organization_id,
            partner_id=partner.pk,
            payload={
                "branch_id": str(branch.pk),
                "partner_id": str(partner.pk),
                "code": branch.code,
                "fields": ["gstin"],
            },
        )


def _apply(partner: BusinessPartner, amendment: PartnerAmendment, actor: User | None) -> list[str]:
    """Write the new values on the (locked) partner; the partner fields that changed."""
    from apps.locations.locks import lock_location_for_reference

    values = amendment.new_values
    changed = changed_fields(amendment)
    update_fields: list[str] = []
    for name in changed:
        value = values[name]
        if name == "location":
            if value is not None:
                lock_location_for_reference(UUID(value))
            partner.location_id = UUID(value) if value else None
            update_fields.append("location")
        elif name == "credit_limit":
            partner.credit_limit = Decimal(value)
            update_fields.append(name)
        else:
            setattr(partner, name, value)
            update_fields.append(name)
    if "gstin" in changed:
        _move_gstin(partner, amendment.old_values["gstin"], values["gstin"], actor)
    if amendment.kind == AmendmentKind.BANK and partner.payouts_frozen:
        partner.payouts_frozen = False
        update_fields.append("payouts_frozen")
        changed = [*changed, "payouts_frozen"]
    if update_fields:
        partner.save(update_fields=[*update_fields, "updated_at"])
    return changed


def _refuse_unless_pending(amendment: PartnerAmendment) -> None:
    if amendment.status != AmendmentStatus.PENDING:
        raise AmendmentNotPending(f"The amendment is {amendment.status}; only a PENDING amendment can change.")


def amendment_approve(*, actor: User, amendment_id: UUID, note: str = "") -> PartnerAmendment:
    """Apply a PENDING amendment to the partner.

    Locks the partner, then the amendment. Refuses anyone but staff of the partner's
    organization holding partners.decide_amendment (404 outside scope, 403 inside), an amendment
    no longer PENDING (409 amendment_not_pending), the staff member who keyed it (409
    maker_checker_violation), an amendment whose old values no longer match the partner (409
    amendment_stale) and a GSTIN meanwhile taken by another active partner (409
    duplicate_active_gstin). Applies the new values; BANK unfreezes payouts; a new GSTIN moves to
    the head office (and the branches holding the old one). Nothing changes on a refusal.
    Emits partners.amendment.approved and partners.partner.updated (the changed fields), and
    partners.branch.updated per branch whose GSTIN moved.
    """
    note = " ".join((note or "").split())
    if len(note) > REASON_MAX_LENGTH:
        raise FieldInvalid("note", "max_length", f"At most {REASON_MAX_LENGTH} characters.")
    try:
        with transaction.atomic():
            partner, amendment = _lock(amendment_id)
            ensure_can_decide(actor, partner)
            _refuse_unless_pending(amendment)
            if amendment.requested_by_id == actor.pk:
                raise MakerCheckerViolation("The staff member who keyed an amendment cannot also decide it.")
            current = {name: current_value(partner, name) for name in amendment.old_values}
            if current != amendment.old_values:
                raise AmendmentStale(
                    "The partner's values changed since the amendment was requested "
                    f"({', '.join(sorted(n for n in current if current[n] != amendment.old_values[n]))}); "
                    "it no longer applies: reject it and ask for a new one."
                )
            try:
                _check_kind(partner, amendment.kind, amendment.new_values)
            except AmendmentValuesInvalid as exc:
                raise AmendmentStale(
                    f"The amendment no longer fits the partner: {exc.errors[0]['detail']}",
                    errors=exc.errors,
                ) from None
            except FieldInvalid as exc:
                raise AmendmentStale(
                    f"The amendment no longer fits the partner: {exc.detail}", errors=exc.errors
                ) from None
            changed = _apply(partner, amendment, actor)
            amendment.status = AmendmentStatus.APPROVED
            amendment.decided_by = actor
            amendment.decided_at = timezone.now()
            amendment.decision_note = note
            amendment.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
            _emit(events.AMENDMENT_APPROVED, amendment, partner, actor)
            _emit_partner_updated(partner, actor, changed, amendment)
    except IntegrityError as exc:
        if _GSTIN_UNIQUE_CONSTRAINT in str(exc):
            raise DuplicateActiveGstin() from exc
        raise
    return amendment


def amendment_reject(*, actor: User, amendment_id: UUID, reason: str) -> PartnerAmendment:
    """Refuse a PENDING amendment, saying why; the partner keeps its values (a BANK rejection
    unfreezes payouts). Same rights and maker-checker rule as approval. Emits
    partners.amendment.rejected (and partners.partner.updated when payouts unfreeze)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise FieldInvalid("reason", "required", "Say why the amendment is rejected.")
    if len(reason) > REASON_MAX_LENGTH:
        raise FieldInvalid("reason", "max_length", f"At most {REASON_MAX_LENGTH} characters.")
    with transaction.atomic():
        partner, amendment = _lock(amendment_id)
        ensure_can_decide(actor, partner)
        _refuse_unless_pending(amendment)
        if amendment.requested_by_id == actor.pk:
            raise MakerCheckerViolation("The staff member who keyed an amendment cannot also decide it.")
        amendment.status = AmendmentStatus.REJECTED
        amendment.decided_by = actor
        amendment.decided_at = timezone.now()
        amendment.decision_note = reason
        amendment.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        _close(partner, amendment, actor, events.AMENDMENT_REJECTED, reason=reason)
    return amendment


def amendment_cancel(*, actor: User, amendment_id: UUID) -> PartnerAmendment:
    """Withdraw a PENDING amendment, by the side that requested it (see ensure_can_cancel); a BANK
    cancellation unfreezes payouts. Emits partners.amendment.cancelled (and
    partners.partner.updated when payouts unfreeze)."""
    with transaction.atomic():
        partner, amendment = _lock(amendment_id)
        ensure_can_cancel(actor, partner, amendment)
        _refuse_unless_pending(amendment)
        amendment.status = AmendmentStatus.CANCELLED
        amendment.decided_by = actor
        amendment.decided_at = timezone.now()
        amendment.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        _close(partner, amendment, actor, events.AMENDMENT_CANCELLED)
    return amendment


def _close(
    partner: BusinessPartner, amendment: PartnerAmendment, actor: User | None, event_type: str, **extra: Any
) -> None:
    """A rejected or cancelled amendment: a BANK one unfreezes payouts."""
    unfroze = amendment.kind == AmendmentKind.BANK and _set_payouts_frozen(partner, False)
    if amendment.kind == AmendmentKind.BANK:
        extra["payouts_frozen"] = partner.payouts_frozen
    _emit(event_type, amendment, partner, actor, **extra)
    if unfroze:
        _emit_partner_updated(partner, actor, ["payouts_frozen"], amendment)

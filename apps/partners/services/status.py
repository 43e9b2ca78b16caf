"""A partner's status (SPEC section 6): ACTIVE, SUSPENDED (no new postings or trades), BLOCKED
(nothing), changed by the back office only, with a reason, audited (pghistory) and emitted.

Allowed: ACTIVE <-> SUSPENDED, ACTIVE or SUSPENDED -> BLOCKED, BLOCKED -> ACTIVE (reactivation).
BLOCKED -> SUSPENDED is refused: a blocked partner is reactivated first.

What the status means for the partner's users is enforced by `permissions.ensure_partner_writable`:
SUSPENDED and BLOCKED partners' users may still sign in and read their partner (so they can see
the status and its reason) but every write of theirs is refused (403 partner_suspended /
partner_blocked). Staff actions on such partners are not refused by the status.
"""

from __future__ import annotations

from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import PermissionDenied
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.errors import (
    DuplicateActiveGstin,
    InvalidStatusTransition,
    PartnerNotFound,
    PartnerStatusUnchanged,
)
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner, PartnerStatus
from apps.partners.permissions import is_member_of, is_staff_of

CHANGE_PARTNER_STATUS = "partners.change_partner_status"

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    PartnerStatus.ACTIVE: frozenset({PartnerStatus.SUSPENDED, PartnerStatus.BLOCKED}),
    PartnerStatus.SUSPENDED: frozenset({PartnerStatus.ACTIVE, PartnerStatus.BLOCKED}),
    PartnerStatus.BLOCKED: frozenset({PartnerStatus.ACTIVE}),
}
REASON_MAX_LENGTH = 500


def ensure_can_change_status(actor: User, partner: BusinessPartner) -> None:
    """Staff of the partner's organization with partners.change_partner_status. The partner's
    own users: 403 (they see the partner); anyone else: 404."""
    if is_staff_of(actor, partner.organization_id):
        if not actor.has_perm(CHANGE_PARTNER_STATUS):
            raise PermissionDenied(f"Changing a partner's status needs the {CHANGE_PARTNER_STATUS} capability.")
        return
    if is_member_of(actor, partner):
        raise PermissionDenied("A partner's status is changed by the back office only.")
    raise PartnerNotFound()


def _clean(status: str, reason: str) -> tuple[str, str]:
    if status not in PartnerStatus.values:
        raise FieldInvalid("status", "invalid_choice", f"The status is one of {', '.join(PartnerStatus.values)}.")
    reason = (reason or "").strip()
    if not reason:
        raise FieldInvalid("reason", "required", "Say why the status changes.")
    if len(reason) > REASON_MAX_LENGTH:
        raise FieldInvalid("reason", "max_length", f"At most {REASON_MAX_LENGTH} characters.")
    return status, reason


def partner_change_status(*, actor: User, partner_id: UUID, status: str, reason: str) -> BusinessPartner:
    """Suspend, block or reactivate a partner, recording the reason, when and by whom.

    Locks the partner row. Refuses the same status (409 status_unchanged), BLOCKED -> SUSPENDED
    (409 invalid_status_transition) and reactivating a partner whose GSTIN another active partner
    now has (409 duplicate_active_gstin). Emits partners.partner.status_changed {from, to, reason}.
    """
    status, reason = _clean(status, reason)
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_change_status(actor, partner)
        previous = partner.status
        if status == previous:
            raise PartnerStatusUnchanged(f"{partner.code} is already {previous}.")
        if status not in ALLOWED_TRANSITIONS[previous]:
            raise InvalidStatusTransition(
                f"{partner.code} is {previous}; it can become {' or '.join(sorted(ALLOWED_TRANSITIONS[previous]))}."
            )
        if (
            status == PartnerStatus.ACTIVE
            and partner.gstin
            and BusinessPartner.objects.filter(gstin=partner.gstin, status=PartnerStatus.ACTIVE)
            .exclude(pk=partner.pk)
            .exists()
        ):
            raise DuplicateActiveGstin(
                f"Another active partner now has GSTIN {partner.gstin}; {partner.code} cannot be reactivated."
            )
        partner.status = status
        partner.status_reason = reason
        partner.status_changed_at = timezone.now()
        partner.status_changed_by = actor
        try:
            with transaction.atomic():
                partner.save(
                    update_fields=["status", "status_reason", "status_changed_at", "status_changed_by", "updated_at"]
                )
        except IntegrityError:  # the GSTIN became active elsewhere concurrently
            raise DuplicateActiveGstin() from None
        emit(
            events.PARTNER_STATUS_CHANGED,
            aggregate=partner,
            actor=actor,
            partner_id=partner.pk,
            payload={"partner_id": str(partner.pk), "from": previous, "to": status, "reason": reason},
        )
    return partner

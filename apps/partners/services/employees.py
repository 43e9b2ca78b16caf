"""A partner's users (SPEC section 2, "Partner employees"): invite, change role, disable, enable.

Who: the partner's owner (object permission partners.manage_employees; refused while the partner
is suspended or blocked) or staff of its organization holding that model permission.

Locking order: the partner row (it serialises every change to the partner's users, so the
active-user limit and the last-owner rule hold under concurrency), then the membership, then
the user row (accounts.users.user_deactivate locks it).

Invariants: at most `partner.max_active_users` active memberships; at least one active OWNER
once the partner has one. A membership's role rights (guardian object permissions and the mirrored
partner role group) exist exactly while it is active.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.errors import InvalidMobile, SmsUnavailable
from apps.accounts.models import User, UserType
from apps.accounts.phone import normalize_mobile
from apps.accounts.sms import get_sms_backend
from apps.accounts.users import user_create, user_deactivate, user_reactivate
from apps.core.logging import get_logger
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.errors import (
    EmployeeAlreadyActive,
    EmployeeAlreadyDisabled,
    EmployeeDisabled,
    EmployeeNotFound,
    LastOwner,
    MobileInUse,
    PartnerUserLimitReached,
)
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner, MembershipRole, PartnerMembership
from apps.partners.permissions import (
    MANAGE_EMPLOYEES,
    ensure_partner_permission,
    grant_partner_role,
    revoke_partner_rights,
)

log = get_logger(__name__)


# --- locks and checks -------------------------------------------------------------------------


def _lock_membership(partner: BusinessPartner, user_id: UUID) -> PartnerMembership:
    membership = (
        PartnerMembership.objects.select_for_update()
        .select_related("user")
        .filter(partner_id=partner.pk, user_id=user_id)
        .first()
    )
    if membership is None:
        raise EmployeeNotFound()
    return membership


def ensure_can_manage_employees(actor: User, partner: BusinessPartner) -> None:
    ensure_partner_permission(actor, partner, partner_perm=MANAGE_EMPLOYEES, staff_perm=MANAGE_EMPLOYEES, write=True)


def _active_members(partner: BusinessPartner) -> Any:
    return PartnerMembership.objects.filter(partner_id=partner.pk, is_active=True)


def _ensure_room_for_one_more(partner: BusinessPartner) -> None:
    """Call with the partner row locked."""
    active = _active_members(partner).count()
    if active >= partner.max_active_users:
        raise PartnerUserLimitReached(
            f"{partner.code} already has {active} active users, its maximum is {partner.max_active_users}: "
            "disable a user first, or ask the back office to raise the limit."
        )


def _ensure_not_last_owner(partner: BusinessPartner, membership: PartnerMembership, action: str) -> None:
    """Refuse taking the OWNER role away from the only active owner (partner row locked)."""
    if membership.role != MembershipRole.OWNER or not membership.is_active:
        return
    others = _active_members(partner).filter(role=MembershipRole.OWNER).exclude(pk=membership.pk)
    if not others.exists():
        raise LastOwner(f"Cannot {action} the only active owner of {partner.code}: make another user owner first.")


def _clean_role(role: str) -> str:
    if role not in MembershipRole.values:
        raise FieldInvalid("role", "invalid_choice", f"The role is one of {', '.join(MembershipRole.values)}.")
    return role


def _clean_mobile(mobile: str) -> str:
    try:
        return normalize_mobile(mobile)
    except InvalidMobile:
        raise FieldInvalid("mobile", InvalidMobile.code, InvalidMobile.default_detail) from None


def _emit(
    event_type: str, membership: PartnerMembership, partner: BusinessPartner, actor: User | None, **extra: Any
) -> None:
    emit(
        event_type,
        aggregate=membership,
        actor=actor,
        organization_id=partner.organization_id,
        partner_id=partner.pk,
        payload={
            "partner_id": str(partner.pk),
            "membership_id": str(membership.pk),
            "user_id": str(membership.user_id),
            "role": membership.role,
            **extra,
        },
    )


def _send_invitation(*, mobile: str, partner_name: str, role: str, membership_id: UUID) -> None:
    """After commit: an SMS telling the invitee how to sign in. A gateway failure is logged (by
    membership id, not the number); the invitation stands (the invitee can still sign in by OTP
    with the number)."""
    body = (
        f"{partner_name} invited you to Cotton ERP as {role.lower()}. "
        "Sign in with this mobile number: you will receive a one-time code."
    )
    try:
        get_sms_backend().send(to=mobile, body=body)
    except SmsUnavailable:
        log.warning("partners.employee_invitation_sms_failed", membership_id=str(membership_id))


# --- use cases --------------------------------------------------------------------------------


def employee_invite(*, actor: User, partner_id: UUID, mobile: str, full_name: str, role: str) -> PartnerMembership:
    """Create an EXTERNAL user of the partner's organization with this mobile, its membership
    and its role's rights, in one transaction; the SMS invitation goes out after commit.

    Refuses beyond the partner's active-user limit (409 partner_user_limit_reached, counted under
    the partner row lock) and a mobile that any user already has (409 mobile_in_use). Emits
    accounts.user.created and partners.employee.invited.
    """
    mobile = _clean_mobile(mobile)
    role = _clean_role(role)
    full_name = (full_name or "").strip()
    if not full_name:
        raise FieldInvalid("full_name", "required", "The employee's name is required.")
    if len(full_name) > 200:
        raise FieldInvalid("full_name", "max_length", "At most 200 characters.")
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_manage_employees(actor, partner)
        _ensure_room_for_one_more(partner)
        if User.objects.filter(mobile=mobile).exists():
            raise MobileInUse()
        try:
            user = user_create(
                actor=actor,
                mobile=mobile,
                full_name=full_name,
                user_type=UserType.EXTERNAL,
                organization_id=partner.organization_id,
            )
        except IntegrityError:  # a concurrent invitation or sign-up took the number first
            raise MobileInUse() from None
        except ValidationError as exc:  # the model's unique check saw it committed meanwhile
            if "mobile" in getattr(exc, "message_dict", {}):
                raise MobileInUse() from None
            raise
        membership = PartnerMembership.objects.create(user=user, partner=partner, role=role, invited_by=actor)
        grant_partner_role(user, partner, role)
        _emit(events.EMPLOYEE_INVITED, membership, partner, actor, invited_by=str(actor.pk))
        partner_name = partner.trade_name or partner.legal_name
        membership_id = membership.pk
        transaction.on_commit(
            lambda: _send_invitation(mobile=mobile, partner_name=partner_name, role=role, membership_id=membership_id)
        )
    return membership


def employee_change_role(*, actor: User, partner_id: UUID, user_id: UUID, role: str) -> PartnerMembership:
    """Give an active member another role and exactly that role's rights. The same role again
    changes nothing (no event). Refuses demoting the last active owner (409 last_owner) and a
    disabled member (409 employee_disabled). Emits partners.employee.role_changed {from, to}."""
    role = _clean_role(role)
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_manage_employees(actor, partner)
        membership = _lock_membership(partner, user_id)
        if not membership.is_active:
            raise EmployeeDisabled("The user is disabled: enable it before changing its role.")
        if membership.role == role:
            return membership
        if role != MembershipRole.OWNER:
            _ensure_not_last_owner(partner, membership, "demote")
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        grant_partner_role(membership.user, partner, role)
        _emit(events.EMPLOYEE_ROLE_CHANGED, membership, partner, actor, **{"from": previous, "to": role})
    return membership


def employee_disable(*, actor: User, partner_id: UUID, user_id: UUID, reason: str = "") -> PartnerMembership:
    """Disable a member: membership inactive (disabled_at), its partner rights revoked, and the
    user deactivated (accounts.users.user_deactivate: new logins refused, every token revoked,
    accounts.user.deactivated emitted, on which realtime closes its sockets), in one transaction.
    Refuses the last active owner (409 last_owner). Emits partners.employee.disabled."""
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_manage_employees(actor, partner)
        membership = _lock_membership(partner, user_id)
        if not membership.is_active:
            raise EmployeeAlreadyDisabled()
        _ensure_not_last_owner(partner, membership, "disable")
        membership.is_active = False
        membership.disabled_at = timezone.now()
        membership.save(update_fields=["is_active", "disabled_at", "updated_at"])
        revoke_partner_rights(membership.user, partner)
        user_deactivate(user_id=membership.user_id, actor=actor, reason=reason or "partner employee disabled")
        _emit(events.EMPLOYEE_DISABLED, membership, partner, actor, reason=reason)
    return membership


def employee_enable(*, actor: User, partner_id: UUID, user_id: UUID) -> PartnerMembership:
    """Re-activate a disabled member with its role's rights, if the partner is under its
    active-user limit (409 partner_user_limit_reached). Its old tokens stay revoked: it signs in
    again. Emits partners.employee.enabled."""
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_manage_employees(actor, partner)
        membership = _lock_membership(partner, user_id)
        if membership.is_active:
            raise EmployeeAlreadyActive()
        _ensure_room_for_one_more(partner)
        membership.is_active = True
        membership.disabled_at = None
        membership.save(update_fields=["is_active", "disabled_at", "updated_at"])
        # Reactivating emits accounts.user.reactivated; the tokens of before stay revoked.
        user = user_reactivate(user_id=membership.user_id, actor=actor, reason=f"enabled at {partner.code}")
        grant_partner_role(user, partner, membership.role)
        _emit(events.EMPLOYEE_ENABLED, membership, partner, actor)
    return membership

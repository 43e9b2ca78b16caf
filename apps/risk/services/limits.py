"""Credit limits (SPEC section 11): set by the back office with a reason; an increase larger than
the organization's `risk_limit_approval_threshold` waits for a second person (maker-checker).

Every change is a `LimitChange` row (old and new limit, reason, who asked, who decided, when),
and emits risk.credit_limit.changed with its status: APPLIED (set at once, or approved),
PENDING (requested) or REJECTED. Applying a limit re-evaluates the utilisation level (which may
emit risk.exposure.alert).

Locks: the partner's credit row, then the limit change (`locks`).

A partner's own request for a higher limit (a partners CREDIT_LIMIT amendment) arrives through
the partners.amendment.approved event (`handlers`) and becomes a PENDING change here, decided by
a risk officer like any other (docs/decisions.md).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.events.emit import emit
from apps.risk import events
from apps.risk.errors import (
    LimitChangeAlreadyPending,
    LimitChangeInvalid,
    LimitChangeNotFound,
    LimitChangeNotPending,
    LimitMakerChecker,
    LimitUnchanged,
    PartnerNotFound,
)
from apps.risk.locks import lock_credit_account, lock_limit_change
from apps.risk.models import CreditAccount, LimitChange, LimitChangeSource, LimitChangeStatus
from apps.risk.permissions import ensure_can_decide_limit, ensure_can_set_limit
from apps.risk.rules import CENT
from apps.risk.services.monitoring import account_reevaluate
from apps.risk.services.settings import risk_settings_for

MAX_LIMIT = Decimal("99999999999999.99")
REASON_MAX_LENGTH = 500
_PENDING_UNIQUE = "limit_change_one_pending_per_partner"


def clean_limit_input(*, credit_limit: Any, reason: Any) -> tuple[Decimal, str]:
    """The limit (a decimal of 0 or more, at most 2 places) and the reason (required), or 400
    limit_change_invalid listing every field's problem at once (limit_invalid, reason_required)."""
    errors: list[dict[str, str]] = []
    value: Decimal | None = None
    try:
        if isinstance(credit_limit, bool | float) or credit_limit is None:
            raise InvalidOperation
        value = Decimal(str(credit_limit).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        errors.append(
            {
                "attr": "credit_limit",
                "code": "limit_invalid",
                "detail": 'Give the limit as a decimal, e.g. "2500000.00".',
            }
        )
    elif value < 0 or value > MAX_LIMIT:
        errors.append(
            {"attr": "credit_limit", "code": "limit_invalid", "detail": f"The limit is between 0 and {MAX_LIMIT}."}
        )
    elif value != value.quantize(CENT):
        errors.append({"attr": "credit_limit", "code": "limit_invalid", "detail": "At most 2 decimal places (paise)."})
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        errors.append({"attr": "reason", "code": "reason_required", "detail": "Say why the limit changes."})
    elif len(text) > REASON_MAX_LENGTH:
        errors.append(
            {"attr": "reason", "code": "reason_too_long", "detail": f"At most {REASON_MAX_LENGTH} characters."}
        )
    if errors:
        code = errors[0]["code"] if len(errors) == 1 else "limit_change_invalid"
        raise LimitChangeInvalid(errors[0]["detail"] if len(errors) == 1 else None, errors=errors, code=code)
    assert value is not None
    return value.quantize(CENT), text


def _emit(change: LimitChange, actor: User | None) -> None:
    emit(
        events.CREDIT_LIMIT_CHANGED,
        aggregate=change,
        actor=actor,
        partner_id=change.partner_id,
        payload={
            "limit_change_id": str(change.pk),
            "partner_id": str(change.partner_id),
            "status": change.status,
            "source": change.source,
            "old_limit": str(change.old_limit),
            "new_limit": str(change.new_limit),
            "reason": change.reason,
        },
    )


def _apply(account: CreditAccount, new_limit: Decimal) -> None:
    account.credit_limit = new_limit
    account.limit_changed_at = timezone.now()
    account.save(update_fields=["credit_limit", "limit_changed_at", "updated_at"])
    account_reevaluate(account)


def _ensure_none_pending(partner_id: UUID) -> None:
    if LimitChange.objects.filter(partner_id=partner_id, status=LimitChangeStatus.PENDING).exists():
        raise LimitChangeAlreadyPending()


def credit_limit_set(*, actor: User, partner_id: UUID, credit_limit: Any, reason: Any) -> LimitChange:
    """Set a partner's credit limit, or request it when the increase is larger than the
    organization's approval threshold (then PENDING until a second person decides).

    Locks the partner's credit row. Refuses: bad input (400 limit_invalid / reason_required, all
    at once); an unknown partner or one of another organization (404 partner_not_found); a
    partner user or staff without risk.set_credit_limit (403); the current limit again (409
    limit_unchanged); a partner with a change already waiting (409 limit_change_already_pending).
    Emits risk.credit_limit.changed (APPLIED or PENDING)."""
    new_limit, text = clean_limit_input(credit_limit=credit_limit, reason=reason)
    try:
        with transaction.atomic():
            account = lock_credit_account(partner_id)
            ensure_can_set_limit(actor, organization_id=account.organization_id, partner_id=account.partner_id)
            old_limit = Decimal(account.credit_limit)
            if new_limit == old_limit:
                raise LimitUnchanged(f"The limit is {old_limit} already.")
            _ensure_none_pending(account.partner_id)
            threshold = Decimal(risk_settings_for(account.organization_id).risk_limit_approval_threshold)
            needs_approval = new_limit - old_limit > threshold
            change = LimitChange.objects.create(
                organization_id=account.organization_id,
                partner_id=account.partner_id,
                old_limit=old_limit,
                new_limit=new_limit,
                reason=text,
                status=LimitChangeStatus.PENDING if needs_approval else LimitChangeStatus.APPLIED,
                requested_by=actor,
                decided_by=None if needs_approval else actor,
                decided_at=None if needs_approval else timezone.now(),
            )
            if not needs_approval:
                _apply(account, new_limit)
            _emit(change, actor)
    except IntegrityError as exc:
        if _PENDING_UNIQUE in str(exc):
            raise LimitChangeAlreadyPending() from exc
        raise
    return change


def _lock_pending(actor: User, change_id: UUID) -> tuple[CreditAccount, LimitChange]:
    partner_id = LimitChange.objects.filter(pk=change_id).values_list("partner_id", flat=True).first()
    if partner_id is None:
        raise LimitChangeNotFound()
    account = lock_credit_account(partner_id)
    change = lock_limit_change(change_id)
    try:
        ensure_can_decide_limit(actor, organization_id=change.organization_id, partner_id=change.partner_id)
    except PartnerNotFound:
        raise LimitChangeNotFound() from None
    if change.status != LimitChangeStatus.PENDING:
        raise LimitChangeNotPending(f"The limit change is {change.status} already.")
    return account, change


def credit_limit_approve(*, actor: User, change_id: UUID, note: str = "") -> LimitChange:
    """Approve a PENDING limit change and apply it. Locks the credit row, then the change.
    Refuses: outside the organization (404 limit_change_not_found); without
    risk.approve_credit_limit (403); the requester (409 maker_checker_violation); a decided
    change (409 limit_change_not_pending). Emits risk.credit_limit.changed (APPLIED)."""
    with transaction.atomic():
        account, change = _lock_pending(actor, change_id)
        if change.requested_by_id == actor.pk:
            raise LimitMakerChecker()
        change.status = LimitChangeStatus.APPLIED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.decision_note = (note or "")[:REASON_MAX_LENGTH]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        _apply(account, Decimal(change.new_limit))
        _emit(change, actor)
    return change


def credit_limit_reject(*, actor: User, change_id: UUID, note: str = "") -> LimitChange:
    """Reject a PENDING limit change (the requester may: it withdraws the request). Same refusals
    as approving but the maker-checker rule. Emits risk.credit_limit.changed (REJECTED)."""
    with transaction.atomic():
        _account, change = _lock_pending(actor, change_id)
        change.status = LimitChangeStatus.REJECTED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.decision_note = (note or "")[:REASON_MAX_LENGTH]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        _emit(change, actor)
    return change


def credit_limit_request_from_amendment(
    *, partner_id: UUID, amendment_id: UUID, credit_limit: Decimal, requested_by_id: UUID | None, reason: str
) -> LimitChange:
    """A partner's approved CREDIT_LIMIT amendment becomes a PENDING change for a risk officer
    (internal: called by the partners.amendment.approved handler, in its transaction). The
    staff member who approved the amendment counts as the requester (he may not approve the
    limit too). Idempotent per amendment. When another change is already waiting, this one is
    recorded as REJECTED with that reason (the partner may ask again)."""
    existing = LimitChange.objects.filter(amendment_id=amendment_id).first()
    if existing is not None:
        return existing
    account = lock_credit_account(partner_id)
    pending = LimitChange.objects.filter(partner_id=partner_id, status=LimitChangeStatus.PENDING).exists()
    change = LimitChange.objects.create(
        organization_id=account.organization_id,
        partner_id=partner_id,
        old_limit=account.credit_limit,
        new_limit=credit_limit,
        reason=(reason or "Credit limit increase asked for by the partner (amendment).")[:REASON_MAX_LENGTH],
        status=LimitChangeStatus.REJECTED if pending else LimitChangeStatus.PENDING,
        source=LimitChangeSource.AMENDMENT,
        amendment_id=amendment_id,
        requested_by_id=requested_by_id,
        decided_at=timezone.now() if pending else None,
        decision_note="Another limit change of this partner was already waiting for approval." if pending else "",
    )
    _emit(change, None)
    return change

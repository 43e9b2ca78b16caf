"""The exposure ledger (SPEC section 11): booking, moving, resizing and releasing exposure.

These functions are internal: other apps' services call them after checking their own actor's
rights (the trade desk when a requirement is published, matching, trades), so they take no
actor and check none. Each runs in the CALLER's transaction (it refuses to run outside
`transaction.atomic()`), so the ledger moves together with the business change or not at all.

Locks: the partner's credit row first (`locks.lock_credit_account`; several in partner-id
order), then the ledger entries. Every change writes ledger rows (append-only: a move or a
resize releases the old entry and books a new one) and moves the credit row's stage totals and
weighted exposure with one `UPDATE ... SET total = total + delta` under that lock, then
re-evaluates the utilisation level (`services.monitoring`), which emits risk.exposure.alert only
when the level changes.

Idempotency: a partner has at most one open entry per (source_type, source_id) (a unique
partial index); booking a source again returns the open entry and changes nothing. A trade may
book both its buyer and its seller under the same source: `exposure_move`, `exposure_resize`
and `exposure_release` act on every open entry of the source.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.db import connection
from django.db.models import F, Value
from django.db.models.expressions import CombinedExpression
from django.utils import timezone

from apps.core.logging import get_logger
from apps.risk.errors import CreditBlocked, CreditLimitExceeded, ExposureInvalid
from apps.risk.locks import lock_credit_account, lock_credit_accounts
from apps.risk.models import (
    STAGE_TOTAL_FIELD,
    CreditAccount,
    ExposureEntry,
    ExposureStage,
    RiskSettings,
    UtilisationLevel,
)
from apps.risk.rules import CENT, level_for
from apps.risk.services.monitoring import account_reevaluate
from apps.risk.services.settings import risk_settings_for

log = get_logger(__name__)

MAX_AMOUNT = Decimal("99999999999999.99")


class TransactionRequired(RuntimeError):
    """An exposure function was called outside transaction.atomic(): a programming error."""


def _require_atomic(name: str) -> None:
    if not connection.in_atomic_block:
        raise TransactionRequired(f"{name}() runs in the caller's transaction: call it inside transaction.atomic()")


def _clean_amount(amount: object) -> Decimal:
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError, TypeError):
        raise ExposureInvalid("amount", "amount_invalid", "The amount must be a decimal number.") from None
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        raise ExposureInvalid("amount", "amount_invalid", f"The amount must be above 0 and at most {MAX_AMOUNT}.")
    return value.quantize(CENT)


def _clean_stage(stage: str) -> str:
    if stage not in ExposureStage.values:
        raise ExposureInvalid("stage", "stage_invalid", f"The stage must be one of {', '.join(ExposureStage.values)}.")
    return stage


def _weighted(settings: RiskSettings, stage: str, amount: Decimal) -> Decimal:
    return (amount * settings.weight(stage)).quantize(CENT)


def _apply(account: CreditAccount, settings: RiskSettings, deltas: dict[str, Decimal]) -> None:
    """Move the stage totals by `deltas` and set the weighted exposure from the new totals, in
    one UPDATE of the locked row; then reload the row and re-evaluate its level."""
    changes: dict[str, object] = {}
    exposure: CombinedExpression | None = None
    for stage, field in STAGE_TOTAL_FIELD.items():
        delta = deltas.get(stage, Decimal(0))
        total = F(field) + Value(delta) if delta else F(field)
        if delta:
            changes[field] = total
        term = total * Value(settings.weight(stage))
        exposure = term if exposure is None else exposure + term
    if not changes:
        return
    changes["exposure"] = exposure
    CreditAccount.objects.filter(pk=account.pk).update(**changes)  # type: ignore[arg-type]
    account.refresh_from_db(fields=[*STAGE_TOTAL_FIELD.values(), "exposure"])
    account_reevaluate(account)


def _open_entry(partner_id: UUID, source_type: str, source_id: UUID) -> ExposureEntry | None:
    return ExposureEntry.objects.filter(
        partner_id=partner_id, source_type=source_type, source_id=source_id, released_at__isnull=True
    ).first()


def _book(
    account: CreditAccount, settings: RiskSettings, *, stage: str, amount: Decimal, source_type: str, source_id: UUID
) -> ExposureEntry:
    entry = ExposureEntry.objects.create(
        organization_id=account.organization_id,
        partner_id=account.partner_id,
        stage=stage,
        amount=amount,
        currency=account.currency,
        source_type=source_type,
        source_id=source_id,
        booked_at=timezone.now(),
    )
    _apply(account, settings, {stage: amount})
    return entry


def _check_currency(account: CreditAccount, currency: str) -> None:
    if currency != account.currency:
        raise ExposureInvalid(
            "currency",
            "currency_mismatch",
            f"Exposure is kept in {account.currency}, the currency of the partner's limit; got {currency}.",
        )


def exposure_book(
    *, partner_id: UUID, stage: str, amount: Decimal, source_type: str, source_id: UUID, currency: str = "INR"
) -> ExposureEntry:
    """Book `amount` at `stage` for the partner against a source, whatever its limit (internal:
    the caller checked its actor's rights). Idempotent per (partner, source): an open entry of
    the source is returned unchanged. Locks the partner's credit row; may emit risk.exposure.alert.
    400 amount_invalid / stage_invalid / currency_mismatch; 404 partner_not_found."""
    _require_atomic("exposure_book")
    stage = _clean_stage(stage)
    value = _clean_amount(amount)
    account = lock_credit_account(partner_id)
    _check_currency(account, currency)
    existing = _open_entry(account.partner_id, source_type, source_id)
    if existing is not None:
        return existing
    settings = risk_settings_for(account.organization_id)
    return _book(account, settings, stage=stage, amount=value, source_type=source_type, source_id=source_id)


def exposure_reserve_within_limit(
    *, partner_id: UUID, stage: str, amount: Decimal, source_type: str, source_id: UUID
) -> ExposureEntry:
    """Book like `exposure_book`, but only within the partner's limit (internal: the caller
    checked its actor's rights).

    Locks the partner's credit row (SELECT ... FOR UPDATE), so concurrent reservations against
    one partner run one after the other and can never together exceed the limit; refuses with
    409 credit_limit_exceeded (with the limit, exposure, headroom and the weighted amount asked
    for) when the weighted exposure after booking would exceed the limit. An open entry of the
    source is returned unchanged (no second check)."""
    _require_atomic("exposure_reserve_within_limit")
    stage = _clean_stage(stage)
    value = _clean_amount(amount)
    account = lock_credit_account(partner_id)
    existing = _open_entry(account.partner_id, source_type, source_id)
    if existing is not None:
        return existing
    settings = risk_settings_for(account.organization_id)
    weighted = _weighted(settings, stage, value)
    _ensure_within_limit(account, weighted)
    return _book(account, settings, stage=stage, amount=value, source_type=source_type, source_id=source_id)


def _ensure_within_limit(account: CreditAccount, weighted_increase: Decimal) -> None:
    exposure = Decimal(account.exposure)
    if weighted_increase > 0 and exposure + weighted_increase > Decimal(account.credit_limit):
        raise CreditLimitExceeded(
            credit_limit=Decimal(account.credit_limit), exposure=exposure, requested=weighted_increase
        )


def _lock_source(source_type: str, source_id: UUID) -> tuple[dict[UUID, CreditAccount], list[ExposureEntry]]:
    """Lock the credit rows of every partner with an open entry of the source, then the entries."""
    partner_ids = list(
        ExposureEntry.objects.filter(source_type=source_type, source_id=source_id, released_at__isnull=True)
        .values_list("partner_id", flat=True)
        .distinct()
    )
    if not partner_ids:
        return {}, []
    accounts = lock_credit_accounts(partner_ids)
    entries = list(
        ExposureEntry.objects.select_for_update()
        .filter(source_type=source_type, source_id=source_id, released_at__isnull=True)
        .order_by("partner_id")
    )
    return accounts, entries


def _release(entry: ExposureEntry, reason: str) -> None:
    entry.released_at = timezone.now()
    entry.release_reason = reason
    entry.save(update_fields=["released_at", "release_reason", "updated_at"])


def exposure_move(*, source_type: str, source_id: UUID, to_stage: str) -> None:
    """Move every open entry of the source to `to_stage` (internal: the caller checked its
    actor's rights): each is released (MOVED) and a new entry of the same amount booked at the
    new stage, both rows kept. Entries already at that stage, and a source with no open entry,
    are left as they are (idempotent). Locks the partners' credit rows in partner-id order."""
    _require_atomic("exposure_move")
    to_stage = _clean_stage(to_stage)
    accounts, entries = _lock_source(source_type, source_id)
    if not entries:
        log.info("risk.exposure_move.nothing_open", source_type=source_type, source_id=str(source_id))
    for entry in entries:
        if entry.stage == to_stage:
            continue
        account = accounts[entry.partner_id]
        settings = risk_settings_for(account.organization_id)
        _release(entry, "MOVED")
        ExposureEntry.objects.create(
            organization_id=entry.organization_id,
            partner_id=entry.partner_id,
            stage=to_stage,
            amount=entry.amount,
            currency=entry.currency,
            source_type=source_type,
            source_id=source_id,
            booked_at=timezone.now(),
        )
        _apply(account, settings, {entry.stage: -Decimal(entry.amount), to_stage: Decimal(entry.amount)})


def exposure_resize(
    *,
    source_type: str,
    source_id: UUID,
    amount: Decimal,
    within_limit: bool = True,
    limit_partner_id: UUID | None = None,
) -> None:
    """Change the amount of every open entry of the source (internal: for trade amendments; the
    caller checked its actor's rights): each is released (RESIZED) and a new entry of `amount`
    booked at the same stage. With `within_limit`, an increase is refused with 409
    credit_limit_exceeded when it would take the partner's weighted exposure above its limit;
    `limit_partner_id` narrows that check to one partner's entry (a trade checks its buyer's
    limit, while the seller's entry of the same trade is only resized)."""
    _require_atomic("exposure_resize")
    value = _clean_amount(amount)
    accounts, entries = _lock_source(source_type, source_id)
    if not entries:
        log.info("risk.exposure_resize.nothing_open", source_type=source_type, source_id=str(source_id))
    for entry in entries:
        old = Decimal(entry.amount)
        if old == value:
            continue
        account = accounts[entry.partner_id]
        settings = risk_settings_for(account.organization_id)
        checked = limit_partner_id is None or str(entry.partner_id) == str(limit_partner_id)
        if within_limit and checked and value > old:
            _ensure_within_limit(
                account, _weighted(settings, entry.stage, value) - _weighted(settings, entry.stage, old)
            )
        _release(entry, "RESIZED")
        ExposureEntry.objects.create(
            organization_id=entry.organization_id,
            partner_id=entry.partner_id,
            stage=entry.stage,
            amount=value,
            currency=entry.currency,
            source_type=source_type,
            source_id=source_id,
            booked_at=timezone.now(),
        )
        _apply(account, settings, {entry.stage: value - old})


def exposure_release(*, source_type: str, source_id: UUID) -> None:
    """Release every open entry of the source (internal: the caller checked its actor's
    rights). Releasing a source with nothing open changes nothing (idempotent)."""
    _require_atomic("exposure_release")
    accounts, entries = _lock_source(source_type, source_id)
    by_partner: dict[UUID, dict[str, Decimal]] = defaultdict(dict)
    for entry in entries:
        _release(entry, "RELEASED")
        deltas = by_partner[entry.partner_id]
        deltas[entry.stage] = deltas.get(entry.stage, Decimal(0)) - Decimal(entry.amount)
    for partner_id, deltas in by_partner.items():
        account = accounts[partner_id]
        _apply(account, risk_settings_for(account.organization_id), deltas)


def credit_ensure_not_blocked(*, partner_id: UUID) -> None:
    """409 credit_blocked when the partner's utilisation is CRITICAL (>= 100%): new buying
    (requirement publish, negotiation accept) is refused. Reads the credit row (one query); a
    partner without one has nothing booked and is not blocked."""
    row = CreditAccount.objects.filter(partner_id=partner_id).values("exposure", "credit_limit").first()
    if row is None:
        return
    exposure, limit = Decimal(row["exposure"]), Decimal(row["credit_limit"])
    if level_for(exposure, limit) == UtilisationLevel.CRITICAL:
        raise CreditBlocked(credit_limit=limit, exposure=exposure)


def credit_lock(*, partner_id: UUID) -> None:
    """Lock the partner's credit row now (created first if missing), for a caller that will book
    exposure later in this transaction but must lock its own rows (a requirement, an
    availability) after the credit row, as the lock order says (`locks`). Internal: the caller
    checks its actor's rights; an unknown partner is 404 partner_not_found."""
    _require_atomic("credit_lock")
    lock_credit_account(partner_id)

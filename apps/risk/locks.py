"""Row locks of risk, in one place. The order, for every service here and every caller:
the partners' credit rows first (in partner-id order when there are several), then ledger
entries, then limit changes; callers (trade desk, matching, trades) take credit rows before
their own rows (availability, requirement, negotiation, trade)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from apps.partners.models import BusinessPartner
from apps.risk.errors import LimitChangeNotFound, PartnerNotFound
from apps.risk.models import CreditAccount, LimitChange


def _create_missing(partner_ids: list[UUID]) -> None:
    """Create the credit rows the partners lack (INSERT ... ON CONFLICT DO NOTHING, so two
    transactions creating one row at once do not fail). The limit starts at the partner's
    onboarding `credit_limit`."""
    partners = BusinessPartner.objects.filter(pk__in=partner_ids).values_list("pk", "organization_id", "credit_limit")
    CreditAccount.objects.bulk_create(
        [CreditAccount(partner_id=pk, organization_id=org, credit_limit=limit) for pk, org, limit in partners],
        ignore_conflicts=True,
    )


def lock_credit_account(partner_id: UUID) -> CreditAccount:
    """SELECT ... FOR UPDATE of the partner's credit row, created first if missing (call inside
    transaction.atomic()). 404 partner_not_found for an unknown partner."""
    account = CreditAccount.objects.select_for_update().filter(partner_id=partner_id).first()
    if account is None:
        _create_missing([partner_id])
        account = CreditAccount.objects.select_for_update().filter(partner_id=partner_id).first()
        if account is None:
            raise PartnerNotFound()
    return account


def lock_credit_accounts(partner_ids: Iterable[UUID]) -> dict[UUID, CreditAccount]:
    """Lock several partners' credit rows in partner-id order (so two transactions locking the
    same pair never deadlock)."""
    ids = sorted({UUID(str(partner_id)) for partner_id in partner_ids})
    locked: dict[UUID, CreditAccount] = {}
    for partner_id in ids:
        locked[partner_id] = lock_credit_account(partner_id)
    return locked


def lock_limit_change(change_id: UUID) -> LimitChange:
    change = LimitChange.objects.select_for_update().filter(pk=change_id).first()
    if change is None:
        raise LimitChangeNotFound()
    return change

"""Use cases of an organization's bank accounts: add one, change it, make it the default, (de)activate it."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q

from apps.core.actors import Actor
from apps.core.logging import get_logger
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    DefaultBankAccountRequired,
    FieldInvalid,
)
from apps.organizations.locks import lock_child, lock_organization
from apps.organizations.models import (
    BankAccount,
    mask_account_number,
)
from apps.organizations.permissions import (
    ADD,
    BANK_ACCOUNT,
    CHANGE,
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
    validate_bank_account_number,
    validate_ifsc,
)

log = get_logger(__name__)

BANK_ACCOUNT_UPDATABLE = frozenset({"holder_name", "bank_name", "branch", "ifsc", "is_default", "is_active"})


def _clean_bank_fields(changes: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(changes)
    for field in ("holder_name", "bank_name", "branch"):
        if field in cleaned:
            cleaned[field] = cleaned[field].strip()
            if field != "branch" and not cleaned[field]:
                raise FieldInvalid(field, "blank", "This field may not be blank.")
    if "ifsc" in cleaned:
        cleaned["ifsc"] = normalize_identifier(cleaned["ifsc"])
        validate_ifsc(cleaned["ifsc"])
    return cleaned


def bank_account_create(
    *,
    organization_id: UUID,
    holder_name: str,
    bank_name: str,
    account_number: str,
    ifsc: str,
    branch: str = "",
    is_default: bool = False,
    actor: Actor | None = None,
) -> BankAccount:
    """Add an account. The first one is the default; `is_default=True` moves the flag. The number
    (9-18 digits) is stored whole but leaves this function masked: in logs, events and the API."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=ADD, model=BANK_ACCOUNT)
    account_number = re.sub(r"[\s-]", "", account_number or "")
    validate_bank_account_number(account_number)
    fields = _clean_bank_fields({"holder_name": holder_name, "bank_name": bank_name, "branch": branch, "ifsc": ifsc})
    with transaction.atomic():
        organization = lock_organization(organization_id)
        if BankAccount.objects.filter(
            organization=organization, ifsc=fields["ifsc"], account_number=account_number
        ).exists():
            raise FieldInvalid("account_number", "unique", "The organization already has this account at this branch.")
        account = BankAccount(organization=organization, account_number=account_number, is_active=True, **fields)
        account.is_default = settle_flag(
            instance=account,
            siblings=Q(organization=organization),
            flag="is_default",
            new_active=True,
            new_flag=is_default,
            flag_asked=is_default,
            required=DefaultBankAccountRequired,
        )
        if account.is_default:
            take_flag(
                BankAccount,
                organization_id=organization.id,
                flag="is_default",
                keep_pk=None,
                actor=actor,
                event_type=events.BANK_ACCOUNT_UPDATED,
                payload=events.bank_account_payload,
            )
        account.save()
        emit(events.BANK_ACCOUNT_CREATED, aggregate=account, actor=actor, payload=events.bank_account_payload(account))
    log.info(
        "organizations.bank_account_created",
        organization_id=str(organization.id),
        bank_account_id=str(account.id),
        account_number=mask_account_number(account.account_number),
        is_default=account.is_default,
    )
    return account


def bank_account_update(
    *,
    organization_id: UUID,
    bank_account_id: UUID,
    actor: Actor | None = None,
    holder_name: str | Unset = UNSET,
    bank_name: str | Unset = UNSET,
    branch: str | Unset = UNSET,
    ifsc: str | Unset = UNSET,
    is_default: bool | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> BankAccount:
    """Change the holder, bank, branch or IFSC, make the account the default, or (de)activate it.
    The number never changes: add the new account. Refuses to leave no default (409)."""
    ensure_can_change_master_data(actor, organization_id=organization_id, action=CHANGE, model=BANK_ACCOUNT)
    changes = _clean_bank_fields(
        given(
            holder_name=holder_name,
            bank_name=bank_name,
            branch=branch,
            ifsc=ifsc,
            is_default=is_default,
            is_active=is_active,
        )
    )
    with transaction.atomic():
        organization = lock_organization(organization_id)
        account = lock_child(BankAccount, organization_id=organization.id, pk=bank_account_id, what="bank account")
        changes["is_default"] = settle_flag(
            instance=account,
            siblings=Q(organization=organization),
            flag="is_default",
            new_active=changes.get("is_active", account.is_active),
            new_flag=changes.get("is_default", account.is_default),
            flag_asked="is_default" in changes,
            required=DefaultBankAccountRequired,
        )
        changed = changed_fields(account, changes)
        if not changed:
            return account
        if "ifsc" in changed and (
            BankAccount.objects.filter(
                organization=organization, ifsc=changes["ifsc"], account_number=account.account_number
            )
            .exclude(pk=account.pk)
            .exists()
        ):
            raise FieldInvalid("ifsc", "unique", "The organization already has this account at this branch.")
        if changes["is_default"]:
            take_flag(
                BankAccount,
                organization_id=organization.id,
                flag="is_default",
                keep_pk=account.pk,
                actor=actor,
                event_type=events.BANK_ACCOUNT_UPDATED,
                payload=events.bank_account_payload,
            )
        apply_changes(account, changed, changes)
        emit(
            events.BANK_ACCOUNT_UPDATED,
            aggregate=account,
            actor=actor,
            payload={**events.bank_account_payload(account), "changed": changed},
        )
    log.info(
        "organizations.bank_account_updated",
        organization_id=str(organization.id),
        bank_account_id=str(account.id),
        account_number=account.account_number_masked,
        changed=sorted(changed),
    )
    return account

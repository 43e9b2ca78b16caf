"""What the organization services share: model validation as field errors, change sets, and the
one-per-organization flags (primary GST registration, default bank account)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Model, Q

from apps.core.actors import Actor
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid, FlagHolderRequired
from apps.organizations.models import BankAccount, GstRegistration


def full_clean(instance: Model) -> None:
    """Model validation whose refusals read like every other field error (400 validation_failed)."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        attr, messages = next(iter(exc.message_dict.items()))
        raise FieldInvalid(None if attr == "__all__" else attr, "invalid", " ".join(messages)) from exc


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def changed_fields(instance: Model, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` of the changes that differ from the instance (JSON-safe)."""
    return {
        field: [_json(getattr(instance, field)), _json(value)]
        for field, value in changes.items()
        if getattr(instance, field) != value
    }


def apply_changes(instance: Model, changed: dict[str, list[Any]], changes: dict[str, Any]) -> None:
    for field in changed:
        setattr(instance, field, changes[field])
    instance.save(update_fields=[*changed, "updated_at"])


def settle_flag(
    *,
    instance: GstRegistration | BankAccount,
    siblings: Q,
    flag: str,
    new_active: bool,
    new_flag: bool,
    flag_asked: bool,
    required: type[FlagHolderRequired],
) -> bool:
    """Whether `instance` holds the one-per-organization `flag` after a change.

    The rule: whenever the organization has an active row, exactly one active row holds the flag.
    So the first active row takes it; the holder cannot drop it (another row must take it) nor be
    deactivated while other rows are active; the last active row may be deactivated and lets it go.
    """
    model = type(instance)
    others = model._default_manager.filter(siblings).exclude(pk=instance.pk)
    holds = bool(getattr(instance, flag))
    if not new_active:
        if new_flag and flag_asked:
            raise FieldInvalid(flag, "must_be_active", f"Only an active one can be {flag[3:]}; activate it as well.")
        if holds and others.filter(is_active=True).exists():
            raise required()
        return False
    if holds and not new_flag:
        raise required()
    if not new_flag and not others.filter(**{flag: True}).exists():
        return True
    return new_flag


def take_flag(
    model: type[GstRegistration] | type[BankAccount],
    *,
    organization_id: UUID,
    flag: str,
    keep_pk: UUID | None,
    actor: Actor | None,
    event_type: str,
    payload: Callable[[Any], dict[str, Any]],
) -> None:
    """Clear `flag` on the organization's other rows (before it is set on `keep_pk`: the partial
    unique index is checked per statement). Each row that loses it emits `event_type`."""
    losers = model._default_manager.select_for_update().filter(organization_id=organization_id, **{flag: True})
    if keep_pk is not None:
        losers = losers.exclude(pk=keep_pk)
    for row in losers:
        setattr(row, flag, False)
        row.save(update_fields=[flag, "updated_at"])
        emit(event_type, aggregate=row, actor=actor, payload={**payload(row), "changed": {flag: [True, False]}})

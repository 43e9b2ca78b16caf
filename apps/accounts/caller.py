"""The user row behind a JWT, cached per process under the user's caller version
(apps/core/caller_cache.py), and what replaces that version: any save or delete of the row
(deactivation, a new organization or type, a password, `tokens_valid_after`), and the services
that change it with a queryset update (logout everywhere) call `caller_changed` themselves."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from apps.accounts.models import User
from apps.core.caller_cache import cached, caller_changed

_FIELDS = tuple(field.attname for field in User._meta.concrete_fields)


def _load(user_id: Any) -> tuple[Any, ...] | None:
    return User.objects.filter(pk=user_id).values_list(*_FIELDS).first()


def cached_user(user_id: Any, version: str) -> User | None:
    """A fresh User instance (no permission caches carried between requests) built from the
    row read under `version`; None when there is no such user."""
    values = cached("user", user_id, version, lambda: _load(user_id))
    if values is None:
        return None
    user = User.from_db("default", _FIELDS, values)
    user._caller_version = version  # type: ignore[attr-defined]  # the membership cache reuses it
    return user


def _user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    caller_changed([instance.pk])


def connect_signals() -> None:
    # Cache upkeep, not business logic: whatever path saves a user (service, admin, shell), the
    # cached row must not outlive it.
    post_save.connect(_user_changed, sender=User, dispatch_uid="accounts.caller.user_saved")
    post_delete.connect(_user_changed, sender=User, dispatch_uid="accounts.caller.user_deleted")

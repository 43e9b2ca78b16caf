"""Creating users: one path for the API, the admin and the demo seed, so each emits its event."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.events import USER_CREATED, USER_DEACTIVATED, USER_REACTIVATED, user_payload
from apps.accounts.models import User
from apps.events.emit import emit


def user_create(
    *,
    actor: User | None = None,
    user_type: str,
    organization_id: UUID | None = None,
    email: str | None = None,
    mobile: str | None = None,
    password: str | None = None,
    full_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    is_verified: bool = False,
) -> User:
    """Create a user (validated by the model and its constraints) and emit accounts.user.created.
    Without a password the user signs in by OTP only (an unusable password)."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            user_type=user_type,
            organization_id=organization_id,
            mobile=mobile,
            full_name=full_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
            is_verified=is_verified,
        )
        user_record_created(user=user, actor=actor)
    return user


def user_record_created(*, user: User, actor: User | None = None) -> None:
    """Emit the creation event for a user saved elsewhere (the admin's add form)."""
    emit(USER_CREATED, aggregate=user, organization_id=user.organization_id, actor=actor, payload=user_payload(user))


def user_deactivate(*, user_id: Any, actor: User | None = None, reason: str = "") -> User:
    """Disable a user: refuse new logins, revoke every token already issued, and emit
    accounts.user.deactivated (the realtime layer closes the user's open sockets on it)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not user.is_active:
            return user
        user.is_active = False
        user.tokens_valid_after = timezone.now()
        user.save(update_fields=["is_active", "tokens_valid_after", "updated_at"])
        outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in outstanding], ignore_conflicts=True)
        emit(
            USER_DEACTIVATED,
            aggregate=user,
            organization_id=user.organization_id,
            actor=actor,
            payload={**user_payload(user), "reason": reason},
        )
    return user


def user_reactivate(*, user_id: Any, actor: User | None = None, reason: str = "") -> User:
    """Let a disabled user sign in again and emit accounts.user.reactivated. Tokens issued before
    the deactivation stay revoked (`tokens_valid_after` is not moved back)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if user.is_active:
            return user
        user.is_active = True
        user.save(update_fields=["is_active", "updated_at"])
        emit(
            USER_REACTIVATED,
            aggregate=user,
            organization_id=user.organization_id,
            actor=actor,
            payload={**user_payload(user), "reason": reason},
        )
    return user

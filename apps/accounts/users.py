"""Creating users: one path for the API, the admin and the demo seed, so each emits its event."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.accounts.events import USER_CREATED, user_payload
from apps.accounts.models import User
from apps.events.emit import emit


def user_create(*, actor: Any = None, email: str | None = None, password: str | None = None, **fields: Any) -> User:
    """Create a user (validated by the model and its constraints) and emit accounts.user.created."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, **fields)
        user_record_created(user=user, actor=actor)
    return user


def user_record_created(*, user: User, actor: Any = None) -> None:
    """Emit the creation event for a user saved elsewhere (the admin's add form)."""
    emit(USER_CREATED, aggregate=user, organization_id=user.organization_id, actor=actor, payload=user_payload(user))

"""What the login use cases share. No use case lives here."""

from __future__ import annotations

from django.utils import timezone

from apps.accounts.models import User
from apps.core.caller_cache import caller_changed
from apps.core.logging import get_logger

log = get_logger(__name__)


def _mark_logged_in(user: User) -> None:
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    caller_changed([user.pk])  # the cached row carries last_login

"""What the risk API modules share: the tag, paging parameters, the acting user, reading a
validated body, and the capability staff need to read risk data."""

from __future__ import annotations

from typing import Any, cast

from rest_framework import serializers
from rest_framework.request import Request

from apps.accounts.models import User, UserType

# Re-exported: the paging parts live once in core.
from apps.core.api.common import PAGE_PARAMETERS as PAGE_PARAMETERS
from apps.core.api.common import PageOutput as PageOutput
from apps.core.api.common import validated_data
from apps.core.errors import PermissionDenied

TAG = "risk"


def user(request: Request) -> User:
    return cast(User, request.user)


validated = validated_data  # risk's views pass request.data or request.query_params


def ensure_staff_may_read(actor: User, perm: str) -> None:
    """Staff read risk data with its view capability (403 without); partner users read their own
    partner's rows (the selectors scope them)."""
    if actor.user_type in (UserType.INTERNAL, UserType.SUPER_ADMIN) and not actor.has_perm(perm):
        raise PermissionDenied(f"Reading this needs the {perm} capability.")


def money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **options)

"""What the risk API modules share: the tag, paging parameters, the acting user, reading a
validated body, and the capability staff need to read risk data."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from apps.accounts.models import User, UserType
from apps.core.errors import PermissionDenied

TAG = "risk"
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of an earlier page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, capped at 200)."),
]


def user(request: Request) -> User:
    return cast(User, request.user)


def validated(serializer_class: type[serializers.Serializer], data: Any, **options: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **options)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def ensure_staff_may_read(actor: User, perm: str) -> None:
    """Staff read risk data with its view capability (403 without); partner users read their own
    partner's rows (the selectors scope them)."""
    if actor.user_type in (UserType.INTERNAL, UserType.SUPER_ADMIN) and not actor.has_perm(perm):
        raise PermissionDenied(f"Reading this needs the {perm} capability.")


def money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **options)


class PageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)

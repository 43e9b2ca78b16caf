"""What the webhook admin screens share. No screen lives here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest


def _scoped(request: HttpRequest, queryset: QuerySet[Any], organization_field: str) -> QuerySet[Any]:
    """Organization staff see their own organization's rows only."""
    user = request.user
    if getattr(user, "user_type", None) == "SUPER_ADMIN" or user.is_superuser:
        return queryset
    return queryset.filter(**{organization_field: getattr(user, "organization_id", None)})

"""What the risk desk's admin screens share: read-only rows of the staff member's organization
(every change is a service button), and links to the sources of exposure and assessments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from apps.accounts.models import User

# The admin screen of each source type other apps book exposure and assessments against. Named
# by URL name, not imported: risk imports no higher app.
SOURCE_ADMIN_URLS = {
    "requirement": "admin:tradedesk_requirement_change",
    "availability": "admin:tradedesk_availability_change",
    "negotiation": "admin:trades_negotiation_change",
    "trade": "admin:trades_trade_change",
}


def actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def source_link(source_type: str, source_id: UUID | None) -> str:
    """A link to the source's admin page where one exists, else its type and id as text."""
    if source_id is None:
        return source_type or "-"
    url_name = SOURCE_ADMIN_URLS.get(source_type)
    if url_name:
        try:
            return format_html('<a href="{}">{} {}</a>', reverse(url_name, args=[source_id]), source_type, source_id)
        except NoReverseMatch:
            pass
    return f"{source_type} {source_id}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nothing is added or deleted here, and every field is read-only: services change rows
    (object actions)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)

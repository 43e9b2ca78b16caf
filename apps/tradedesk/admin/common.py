"""What the trade-desk back-office screens share: read-only postings of the staff member's
organization whose only changes are service buttons, shown on the states that allow them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_object_actions import DjangoObjectActions

from apps.core.errors import NotFound
from apps.partners.admin.base import ServiceActionsMixin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PostingAdmin(ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
    """A posting screen: nothing is added or deleted here; `change_actions` show on a posting in
    one of `actionable_states` that `get_queryset` (the screen's scoped selector) holds."""

    actionable_states: tuple[str, ...] = ()
    not_found: type[NotFound] = NotFound
    list_select_related = ("partner", "commodity", "variety")
    search_fields = ("number", "partner__code", "partner__legal_name")
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        try:
            actionable = self.get_queryset(request).filter(pk=object_id, status__in=self.actionable_states).exists()
        except (ValueError, ValidationError):  # not a UUID: the change view answers it
            return ()
        return self.change_actions if actionable else ()

    def in_scope(self, request: HttpRequest, obj: Any) -> bool:
        """The action views fetch the object unscoped: report a posting outside the staff
        member's organization as missing (`not_found`) and do nothing."""
        if self.get_queryset(request).filter(pk=obj.pk).exists():
            return True
        self.message_user(request, f"{self.not_found.default_detail} ({self.not_found.code})", messages.ERROR)
        return False

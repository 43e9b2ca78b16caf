from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.organizations.models import Organization
from apps.organizations.services import UPDATABLE_FIELDS, organization_create, organization_update


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "legal_name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "legal_name")
    readonly_fields = ("id", "created_at", "updated_at")

    @staticmethod
    def _is_platform_admin(request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_superuser or getattr(user, "user_type", None) == "SUPER_ADMIN")

    def get_queryset(self, request: HttpRequest) -> Any:
        # Organization staff see (and may edit, with the permission) their own tenant only.
        qs = super().get_queryset(request)
        if self._is_platform_admin(request):
            return qs
        return qs.filter(pk=getattr(request.user, "organization_id", None))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_platform_admin(request) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tenants are deactivated, never deleted

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The public code is what applicants type; it never changes once issued.
        return (*self.readonly_fields, "code") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        # Through the services, so the change is validated and its event emitted.
        if not change:
            created = organization_create(
                code=obj.code, name=obj.name, legal_name=obj.legal_name, pan=obj.pan, actor=request.user
            )
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in UPDATABLE_FIELDS}
        organization_update(organization_id=obj.pk, actor=request.user, **changes)

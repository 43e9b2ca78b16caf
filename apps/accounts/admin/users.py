"""Back office for users: platform-only fields and organization scoping for organization admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db import transaction
from django.http import HttpRequest

from apps.accounts.admin.common import _is_platform_admin
from apps.accounts.models import User, UserType
from apps.accounts.requests import request_user
from apps.accounts.roles import Role
from apps.accounts.selectors import partner_of
from apps.accounts.users import user_record_created

# What only a platform admin may set: these grant platform powers (ARCHITECTURE section 7).
PLATFORM_ONLY_FIELDS = ("is_superuser", "user_permissions")


class CottonUserCreationForm(UserCreationForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ("email", "mobile", "full_name", "user_type", "organization")


class CottonUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = CottonUserChangeForm
    add_form = CottonUserCreationForm
    ordering = ("email",)
    list_display = (
        "__str__",
        "email",
        "masked_mobile",
        "user_type",
        "organization",
        "partner",
        "is_active",
        "is_staff",
    )
    # RelatedOnly: organization staff must not see the other tenants' names in the filter.
    list_filter = (
        "user_type",
        ("organization", admin.RelatedOnlyFieldListFilter),
        "is_active",
        "is_staff",
        "is_verified",
        "groups",
    )
    search_fields = ("email", "mobile", "full_name")
    list_select_related = ("organization",)
    readonly_fields = ("id", "last_login", "created_at", "updated_at", "tokens_valid_after")
    fieldsets = (
        (None, {"fields": ("id", "email", "mobile", "full_name", "password")}),
        ("Tenancy", {"fields": ("user_type", "organization")}),
        ("Access", {"fields": ("is_active", "is_verified", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("History", {"fields": ("last_login", "tokens_valid_after", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "mobile", "full_name", "user_type", "organization", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups", "user_permissions")

    @admin.display(description="Mobile")
    def masked_mobile(self, obj: User) -> str:
        return f"…{obj.mobile[-4:]}" if obj.mobile else "—"

    @admin.display(description="Partner")
    def partner(self, obj: User) -> str:
        partner = partner_of(obj)
        return f"{partner['name']} ({partner['role']})" if partner else "—"

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                user_record_created(user=obj, actor=request_user(request))

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        user = request.user
        # Organization staff see their own organization's users only.
        if not _is_platform_admin(user):
            qs = qs.filter(organization_id=getattr(user, "organization_id", None))
        return qs

    # Organization staff manage users of their own organization only, and cannot hand out
    # platform powers (superuser, direct permissions, the platform admin role), not even to
    # themselves.
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not _is_platform_admin(request.user):
            return (*fields, *PLATFORM_ONLY_FIELDS)
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization" and not _is_platform_admin(request.user):
            organization_id = getattr(request.user, "organization_id", None)
            kwargs["queryset"] = db_field.related_model.objects.filter(pk=organization_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user_type" and not _is_platform_admin(request.user):
            kwargs["choices"] = [(value, label) for value, label in UserType.choices if value != UserType.SUPER_ADMIN]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not _is_platform_admin(request.user):
            kwargs["queryset"] = db_field.related_model.objects.exclude(name=Role.PLATFORM_ADMIN)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

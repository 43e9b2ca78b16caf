from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db import transaction
from django.http import HttpRequest

from apps.accounts.models import OtpCode, SmsMessage, User
from apps.accounts.selectors import partner_of
from apps.accounts.users import user_record_created


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
    list_filter = ("user_type", "organization", "is_active", "is_staff", "is_verified", "groups")
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
                user_record_created(user=obj, actor=request.user)

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        user = request.user
        # Organization staff see their own organization's users only.
        if getattr(user, "user_type", None) != "SUPER_ADMIN" and not user.is_superuser:
            qs = qs.filter(organization_id=getattr(user, "organization_id", None))
        return qs


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """The dev inbox: what the offline SMS backend would have sent (OTP codes for demo logins)."""

    list_display = ("created_at", "to", "body", "backend")
    search_fields = ("to",)
    ordering = ("-created_at",)
    readonly_fields = ("id", "to", "body", "backend", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OtpCode)
class OtpCodeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "masked_mobile", "purpose", "attempts", "expires_at", "consumed_at")
    list_filter = ("purpose",)
    ordering = ("-created_at",)
    exclude = ("code_hash",)
    readonly_fields = (
        "id",
        "mobile",
        "purpose",
        "attempts",
        "expires_at",
        "consumed_at",
        "organization",
        "created_at",
        "updated_at",
    )

    @admin.display(description="Mobile")
    def masked_mobile(self, obj: OtpCode) -> str:
        return f"…{obj.mobile[-4:]}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

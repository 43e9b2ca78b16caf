from django.contrib import admin

from apps.organizations.models import Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "legal_name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "legal_name")
    readonly_fields = ("id", "created_at", "updated_at")

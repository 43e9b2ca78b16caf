"""Back office of group structure: corporate groups (their own screen) and, on the partner screen,
the buttons "Set master partner" and "Set corporate group" plus a read-only list of the partner's
insiders (apps.partners.insiders).

Every write calls a service of services.groups, which checks the capability and the one-level
master rule; a refusal is reported with message_user and nothing changes. Choices offered in the
forms are the partner's own organization's only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django_object_actions import DjangoObjectActions, action

from apps.accounts.models import User, UserType
from apps.core.admin import ServiceActionsMixin
from apps.partners.insiders import insider_relationship, insiders_of
from apps.partners.models import BusinessPartner, CorporateGroup
from apps.partners.services.groups import (
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    corporate_group_create,
    corporate_group_rename,
    partner_set_corporate_group,
    partner_set_master,
)

GROUP_ACTIONS = ("set_master_partner", "set_corporate_group")


def corporate_groups_visible_to(user: User) -> QuerySet[CorporateGroup]:
    if user.user_type == UserType.SUPER_ADMIN:
        return CorporateGroup.objects.all()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return CorporateGroup.objects.filter(organization_id=user.organization_id)
    return CorporateGroup.objects.none()


class GroupNameForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH)


class MasterPartnerForm(forms.Form):
    master_partner = forms.ModelChoiceField(
        queryset=BusinessPartner.objects.none(),
        required=False,
        empty_label="No master",
        help_text="Only partners that are not branches themselves (masters have one level).",
    )
    reason = forms.CharField(widget=forms.Textarea, max_length=REASON_MAX_LENGTH)

    def __init__(self, *args: Any, partner: BusinessPartner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["master_partner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            BusinessPartner.objects.filter(organization_id=partner.organization_id, master_partner__isnull=True)
            .exclude(pk=partner.pk)
            .order_by("code")
        )
        field.initial = partner.master_partner_id


class CorporateGroupChoiceForm(forms.Form):
    corporate_group = forms.ModelChoiceField(
        queryset=CorporateGroup.objects.none(), required=False, empty_label="No corporate group"
    )

    def __init__(self, *args: Any, partner: BusinessPartner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["corporate_group"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = CorporateGroup.objects.filter(organization_id=partner.organization_id).order_by("name")
        field.initial = partner.corporate_group_id


class GroupActionsMixin(ServiceActionsMixin):
    """Partner screen: buttons Set master partner / Set corporate group, and the insiders list."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "insiders"]  # type: ignore[misc]

    @admin.display(description="Insiders (may not trade with this partner)")
    def insiders(self, obj: BusinessPartner) -> str:
        if obj.pk is None:
            return "-"
        rows = [
            (
                reverse("admin:partners_businesspartner_change", args=[other.pk]),
                str(other),
                (insider_relationship(obj, other) or "").replace("_", " "),
            )
            for other in insiders_of(obj).order_by("code")
        ]
        if not rows:
            return "None"
        return format_html_join(", ", '<a href="{}">{}</a> ({})', rows)

    @action(
        button_type="a",
        label="Set master partner",
        description="Make this partner a branch of a master partner, or remove its master (with a reason)",
    )
    def set_master_partner(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        form = MasterPartnerForm(request.POST or None, partner=obj)
        if request.method == "POST" and form.is_valid():
            master = form.cleaned_data["master_partner"]
            if self.run_service(
                request,
                f"Master partner set to {master.code}." if master else "Master partner removed.",
                partner_set_master,
                partner_id=obj.pk,
                master_partner_id=master.pk if master else None,
                reason=form.cleaned_data["reason"],
                form=form,
            ):
                return None
        return self.action_form_page(request, obj, form, f"Set the master partner of {obj.code}", "Save")

    @action(
        button_type="a",
        label="Set corporate group",
        description="Put this partner in a corporate group of its organization, or in none",
    )
    def set_corporate_group(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        form = CorporateGroupChoiceForm(request.POST or None, partner=obj)
        if request.method == "POST" and form.is_valid():
            group = form.cleaned_data["corporate_group"]
            if self.run_service(
                request,
                f"Corporate group set to {group.name}." if group else "Corporate group removed.",
                partner_set_corporate_group,
                partner_id=obj.pk,
                group_id=group.pk if group else None,
                form=form,
            ):
                return None
        return self.action_form_page(request, obj, form, f"Set the corporate group of {obj.code}", "Save")


class GroupMemberInline(admin.TabularInline):
    model = BusinessPartner
    fk_name = "corporate_group"
    extra = 0
    can_delete = False
    fields = ("code", "legal_name", "status", "master_partner")
    readonly_fields = fields
    verbose_name = "member partner"
    verbose_name_plural = "member partners (set on each partner: Set corporate group)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CorporateGroup)
class CorporateGroupAdmin(ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
    list_display = ("name", "member_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("organization", "name", "created_at", "updated_at")
    fields = readonly_fields
    inlines = [GroupMemberInline]
    change_actions = ("rename",)
    changelist_actions = ("create_group",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CorporateGroup]:
        user = request.user
        assert isinstance(user, User)
        return corporate_groups_visible_to(user).annotate(member_count=Count("partners"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # "New corporate group" on the list calls the service

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @action(button_type="a", label="New corporate group", description="Create a corporate group of your organization")
    def create_group(self, request: HttpRequest, queryset: QuerySet[CorporateGroup]) -> HttpResponse | None:
        form = GroupNameForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Corporate group created.",
                corporate_group_create,
                name=form.cleaned_data["name"],
                form=form,
            )
        ):
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "New corporate group",
            "object": "",
            "form": form,
            "submit_label": "Create",
            "back_url": reverse("admin:partners_corporategroup_changelist"),
        }
        return render(request, "admin/core/action_form.html", context)

    @action(button_type="a", label="Rename", description="Rename the corporate group")
    def rename(self, request: HttpRequest, obj: CorporateGroup) -> HttpResponse | None:
        form = GroupNameForm(request.POST or None, initial={"name": obj.name})
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Corporate group renamed.",
                corporate_group_rename,
                group_id=obj.pk,
                name=form.cleaned_data["name"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, f"Rename {obj.name}", "Rename")

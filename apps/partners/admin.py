"""Back office of partners: the onboarding queue.

KYC officers and managers work applications here: filters by state and route, documents inline,
and buttons (django-object-actions) for verify/reject document, request info, approve and reject.
Every button calls the service, which checks the capability and maker-checker; a refusal is
reported with message_user and nothing changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_object_actions import DjangoObjectActions, action

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.partners import services
from apps.partners.models import (
    Branch,
    BusinessPartner,
    DocumentStatus,
    OnboardingApplication,
    PartnerDocument,
    PartnerMembership,
)
from apps.partners.selectors import applications_visible_to_staff, partners_visible_to


class DocumentDecisionForm(forms.Form):
    document = forms.ModelChoiceField(queryset=PartnerDocument.objects.none())
    decision = forms.ChoiceField(choices=[("verify", "Verify"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=500, help_text="Required when rejecting.")

    def __init__(self, *args: Any, application: OnboardingApplication, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["document"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PartnerDocument.objects.filter(
            application=application, status=DocumentStatus.PENDING
        ).order_by("document_type")


class MessageForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea, max_length=2000)


class ApproveForm(forms.Form):
    credit_limit = forms.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal(0))
    note = forms.CharField(widget=forms.Textarea, required=False, max_length=2000)


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=2000)


class DocumentInline(admin.TabularInline):
    model = PartnerDocument
    fk_name = "application"
    extra = 0
    can_delete = False
    fields = ("document_type", "file", "status", "issued_on", "expires_on", "verified_by", "verified_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OnboardingApplication)
class OnboardingApplicationAdmin(DjangoObjectActions, admin.ModelAdmin):
    list_display = ("legal_name", "state", "route", "risk_score", "risk_category", "submitted_at")
    list_filter = ("state", "route", "risk_category", "entity_class")
    search_fields = ("legal_name", "trade_name", "pan", "gstin")
    inlines = [DocumentInline]
    change_actions = ("review_document", "request_info", "approve", "reject")
    readonly_fields = [field.name for field in OnboardingApplication._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OnboardingApplication]:
        user = request.user
        assert isinstance(user, User)
        return applications_visible_to_staff(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _form_page(
        self, request: HttpRequest, obj: OnboardingApplication, form: forms.Form, title: str, submit_label: str
    ) -> HttpResponse:
        back_url = reverse("admin:partners_onboardingapplication_change", args=[obj.pk])
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "application": obj,
            "form": form,
            "submit_label": submit_label,
            "back_url": back_url,
        }
        return render(request, "admin/partners/action_form.html", context)

    def _run(self, request: HttpRequest, success: str, fn: Any, **kwargs: Any) -> bool:
        try:
            fn(actor=request.user, **kwargs)
        except DomainError as exc:
            self.message_user(request, f"{exc.detail} ({exc.code})", messages.ERROR)
            return False
        self.message_user(request, success, messages.SUCCESS)
        return True

    @action(button_type="a", label="Verify / reject a document", description="Verify or reject one pending document")
    def review_document(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = DocumentDecisionForm(request.POST or None, application=obj)
        if request.method == "POST" and form.is_valid():
            document = form.cleaned_data["document"]
            if form.cleaned_data["decision"] == "verify":
                self._run(
                    request, f"{document.document_type} verified.", services.document_verify, document_id=document.pk
                )
            else:
                self._run(
                    request,
                    f"{document.document_type} rejected.",
                    services.document_reject,
                    document_id=document.pk,
                    reason=form.cleaned_data["reason"],
                )
            return None
        return self._form_page(request, obj, form, "Verify or reject a document", "Record decision")

    @action(
        button_type="a",
        label="Request information",
        description="Send the application back to the applicant with a message",
    )
    def request_info(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = MessageForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self._run(
                request,
                "Information requested.",
                services.application_request_info,
                application_id=obj.pk,
                message=form.cleaned_data["message"],
            )
            return None
        return self._form_page(request, obj, form, "Request information from the applicant", "Send")

    @action(button_type="a", label="Approve", description="Approve: creates the partner, its owner and head office")
    def approve(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = ApproveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self._run(
                request,
                "Application approved; the partner is created.",
                services.application_approve,
                application_id=obj.pk,
                credit_limit=form.cleaned_data["credit_limit"],
                note=form.cleaned_data["note"],
            )
            return None
        return self._form_page(request, obj, form, "Approve the application", "Approve")

    @action(button_type="a", label="Reject", description="Reject the application with a reason")
    def reject(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self._run(
                request,
                "Application rejected.",
                services.application_reject,
                application_id=obj.pk,
                reason=form.cleaned_data["reason"],
            )
            return None
        return self._form_page(request, obj, form, "Reject the application", "Reject")


class MembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    can_delete = False
    fields = ("user", "role", "is_active")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0
    can_delete = False
    fields = ("code", "name", "branch_type", "state_code", "gstin", "is_default_ship_to", "is_default_ship_from")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BusinessPartner)
class BusinessPartnerAdmin(admin.ModelAdmin):
    list_display = ("code", "legal_name", "status", "kyc_status", "kyc_expires_on", "risk_category")
    list_filter = ("status", "kyc_status", "entity_class", "risk_category")
    search_fields = ("code", "legal_name", "trade_name", "pan", "gstin")
    inlines = [MembershipInline, BranchInline]
    readonly_fields = [field.name for field in BusinessPartner._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessPartner]:
        user = request.user
        assert isinstance(user, User)
        return partners_visible_to(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

"""Back office of onboarding: the application queue.

KYC officers and managers work applications here: filters by state and route, documents inline,
and buttons (django-object-actions) for verify/reject document, request info, approve and reject.
Every button calls the service, which checks the capability and maker-checker; a refusal is
reported with message_user and nothing changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_object_actions import DjangoObjectActions, action

from apps.accounts.models import User
from apps.partners import services
from apps.partners.admin.base import ServiceActionsMixin
from apps.partners.admin.documents import DocumentLinkMixin
from apps.partners.models import (
    DocumentStatus,
    OnboardingApplication,
    PartnerDocument,
)
from apps.partners.selectors import applications_visible_to_staff
from apps.partners.services.assignment import application_assign, can_assign, officers_for


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


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name or obj.email or obj.mobile or obj.pk)


class AssignOfficerForm(forms.Form):
    officer = OfficerChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody (unassign)",
        help_text="Any active staff member of the organization; the assignment grants the review right "
        "on this application only.",
    )

    def __init__(self, *args: Any, application: OnboardingApplication, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["officer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = officers_for(application.organization_id)
        field.initial = application.assigned_to_id


class AssignedToFilter(admin.SimpleListFilter):
    """Assigned to me / to nobody / to one officer of the staff member's organization (never
    another organization's users)."""

    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        user = request.user
        assert isinstance(user, User)
        assigned = (
            User.objects.filter(pk__in=applications_visible_to_staff(user).values("assigned_to_id"))
            .exclude(pk=user.pk)
            .order_by("full_name", "email")
        )
        return [("me", "Me"), ("nobody", "Nobody")] + [
            (str(officer.pk), officer.full_name or officer.email or str(officer.pk)) for officer in assigned
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OnboardingApplication]) -> Any:
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to_id=request.user.pk)
        if value == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        if value:
            officer_id = _uuid(value)
            return queryset.filter(assigned_to_id=officer_id) if officer_id else queryset.none()
        return queryset


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


class DocumentInline(DocumentLinkMixin, admin.TabularInline):
    model = PartnerDocument
    fk_name = "application"
    extra = 0
    can_delete = False
    fields = ("document_type", "view_file", "status", "issued_on", "expires_on", "verified_by", "verified_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OnboardingApplication)
class OnboardingApplicationAdmin(ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
    list_display = ("legal_name", "state", "route", "risk_score", "risk_category", "assigned_to", "submitted_at")
    list_filter = ("state", "route", "risk_category", "entity_class", AssignedToFilter)
    list_select_related = ("assigned_to",)
    search_fields = ("legal_name", "trade_name", "pan", "gstin")
    show_full_result_count = False  # no unfiltered COUNT(*) next to a search (issue 15)
    inlines = [DocumentInline]
    change_actions = ("assign_officer", "review_document", "request_info", "approve", "reject")
    readonly_fields = [field.name for field in OnboardingApplication._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OnboardingApplication]:
        user = request.user
        assert isinstance(user, User)
        return applications_visible_to_staff(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        actions = list(super().get_change_actions(request, object_id, form_url))
        user = request.user
        assert isinstance(user, User)
        application = self.get_object(request, object_id)
        if application is None or not can_assign(user, application.organization_id):
            actions.remove("assign_officer")
        return actions

    @action(
        button_type="a",
        label="Assign KYC officer",
        description="Assign the officer who reviews this application (grants the review right on it)",
    )
    def assign_officer(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = AssignOfficerForm(request.POST or None, application=obj)
        if request.method == "POST" and form.is_valid():
            officer = form.cleaned_data["officer"]
            self.run_service(
                request,
                "KYC officer assigned." if officer else "KYC officer unassigned.",
                application_assign,
                application_id=obj.pk,
                officer_id=officer.pk if officer else None,
            )
            return None
        return self.action_form_page(request, obj, form, "Assign a KYC officer", "Assign")

    @action(button_type="a", label="Verify / reject a document", description="Verify or reject one pending document")
    def review_document(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = DocumentDecisionForm(request.POST or None, application=obj)
        if request.method == "POST" and form.is_valid():
            document = form.cleaned_data["document"]
            if form.cleaned_data["decision"] == "verify":
                self.run_service(
                    request, f"{document.document_type} verified.", services.document_verify, document_id=document.pk
                )
            else:
                self.run_service(
                    request,
                    f"{document.document_type} rejected.",
                    services.document_reject,
                    document_id=document.pk,
                    reason=form.cleaned_data["reason"],
                )
            return None
        return self.action_form_page(request, obj, form, "Verify or reject a document", "Record decision")

    @action(
        button_type="a",
        label="Request information",
        description="Send the application back to the applicant with a message",
    )
    def request_info(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = MessageForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                "Information requested.",
                services.application_request_info,
                application_id=obj.pk,
                message=form.cleaned_data["message"],
            )
            return None
        return self.action_form_page(request, obj, form, "Request information from the applicant", "Send")

    @action(button_type="a", label="Approve", description="Approve: creates the partner, its owner and head office")
    def approve(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = ApproveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                "Application approved; the partner is created.",
                services.application_approve,
                application_id=obj.pk,
                credit_limit=form.cleaned_data["credit_limit"],
                note=form.cleaned_data["note"],
            )
            return None
        return self.action_form_page(request, obj, form, "Approve the application", "Approve")

    @action(button_type="a", label="Reject", description="Reject the application with a reason")
    def reject(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                "Application rejected.",
                services.application_reject,
                application_id=obj.pk,
                reason=form.cleaned_data["reason"],
            )
            return None
        return self.action_form_page(request, obj, form, "Reject the application", "Reject")

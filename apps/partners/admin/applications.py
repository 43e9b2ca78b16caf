"""Back office of onboarding: the application queue.

KYC officers and managers work applications here: filters by state and route, documents inline,
and buttons (django-object-actions) for verify/reject document, request info, approve and reject.
Every button calls the service, which checks the capability and maker-checker; a refusal is
reported with message_user and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django_object_actions import DjangoObjectActions, action
from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, XLSX

from apps.accounts.models import User
from apps.core.admin import BigListAdminMixin, BigListChangeList, ServiceActionsMixin, domain_error_message
from apps.core.errors import DomainError
from apps.core.formatting import choice_badge, indian_number
from apps.partners import services
from apps.partners.admin.documents import VIEW_DOCUMENT
from apps.partners.models import ApplicationState, DocumentStatus, OnboardingApplication, PartnerDocument
from apps.partners.permissions import APPROVE_PERMISSION_BY_ROUTE, ensure_can_approve, ensure_can_review
from apps.partners.resources import ApplicationResource
from apps.partners.selectors import applications_visible_to_staff
from apps.partners.services.assignment import application_assign, can_assign, officers_for

UNDECIDED_STATES = (ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW)
DECIDED_STATES = (ApplicationState.APPROVED, ApplicationState.REJECTED, ApplicationState.WITHDRAWN)


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


class BulkAssignForm(forms.Form):
    officer = OfficerChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody (unassign)")

    def __init__(self, *args: Any, organization_id: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["officer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = officers_for(organization_id) if organization_id else User.objects.none()


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


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


class ApplicationQueueFilter(admin.SimpleListFilter):
    """The onboarding queue opens on the undecided applications (submitted or under review);
    "All" shows every state. An explicit state filter in the URL wins over the default, and a
    search looks through every state (whoever types a name wants that application)."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("to_approve", "Ready to approve (my levels)"),
            ("documents_pending", "With documents to review"),
            ("info_requested", "Waiting for the applicant"),
            ("decided", "Decided"),
            ("all", "All"),
        ]

    def choices(self, changelist: Any) -> Any:
        explicit_state = any(key.startswith("state") for key in changelist.params) or bool(changelist.query)
        yield {
            "selected": self.value() is None and not explicit_state,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Undecided (to work)",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[OnboardingApplication]) -> Any:
        value = self.value()
        if value is None:
            if any(key.startswith("state") for key in request.GET) or request.GET.get("q"):
                return queryset
            return queryset.filter(state__in=UNDECIDED_STATES)
        if value == "to_approve":
            user = request.user
            assert isinstance(user, User)
            routes = [route for route, perm in APPROVE_PERMISSION_BY_ROUTE.items() if user.has_perm(perm)]
            return queryset.filter(state__in=UNDECIDED_STATES, route__in=routes).exclude(
                documents__status=DocumentStatus.PENDING
            )
        if value == "documents_pending":
            return queryset.filter(state__in=UNDECIDED_STATES, documents__status=DocumentStatus.PENDING).distinct()
        if value == "info_requested":
            return queryset.filter(state=ApplicationState.INFO_REQUESTED)
        if value == "decided":
            return queryset.filter(state__in=DECIDED_STATES)
        return queryset


def _reason_refused(check: Callable[[User, OnboardingApplication], None], user: User, obj: Any) -> str | None:
    """None when `user` passes the permission check, else the refusal's sentence."""
    try:
        check(user, obj)
    except DomainError as exc:
        return str(exc.detail)
    return None


class ApplicationChangeList(BigListChangeList):
    """The documents' states of the page's applications (the summary column) in one query a
    page, not one a row."""

    def page_queryset(self, queryset: Any) -> Any:
        documents = PartnerDocument.objects.only("id", "application_id", "status")
        return super().page_queryset(queryset.prefetch_related(Prefetch("documents", queryset=documents)))


@admin.register(OnboardingApplication)
class OnboardingApplicationAdmin(
    ExportActionMixin, BigListAdminMixin, ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin
):
    resource_classes = [ApplicationResource]
    formats = [CSV, XLSX]
    show_change_form_export = False
    list_display = (
        "legal_name",
        "state_badge",
        "route",
        "risk_score",
        "risk_category",
        "assigned_to",
        "documents_summary",
        "submitted_at",
    )
    list_filter = (ApplicationQueueFilter, "state", "route", "risk_category", "entity_class", AssignedToFilter)
    list_select_related = ("assigned_to",)
    search_fields = ("legal_name", "trade_name", "pan", "gstin")
    ordering = ("-submitted_at", "-created_at")
    change_form_template = "admin/partners/onboardingapplication/change_form.html"
    change_actions = ("assign_officer", "request_info", "approve", "reject")
    actions = ["assign_officer_to_selected"]
    fieldsets = (
        (
            "Applicant",
            {
                "fields": (
                    ("legal_name", "trade_name"),
                    ("entity_class", "business_type", "service_type"),
                    ("pan", "gstin"),
                    ("imports_or_exports", "owns_lorries"),
                )
            },
        ),
        (
            "Address and contact",
            {
                "fields": (
                    "address_line1",
                    ("city", "state_code", "pincode"),
                    "location",
                    ("contact_email", "contact_phone"),
                )
            },
        ),
        ("Bank", {"fields": (("bank_account_number", "bank_ifsc"),)}),
        (
            "Risk",
            {
                "fields": (
                    ("risk_score", "risk_category", "route"),
                    ("business_age_months", "gst_turnover_inr", "filing_compliance"),
                    ("has_quality_lab", "has_own_transport"),
                )
            },
        ),
        (
            "Back office",
            {
                "fields": (
                    ("state_badge", "submitted_at"),
                    ("assigned_to", "reviewed_by", "approved_by", "decided_at"),
                    "decision_note",
                    "info_request_message",
                    "partner",
                    ("applicant", "keyed_by"),
                )
            },
        ),
    )
    readonly_fields = [field.name for field in OnboardingApplication._meta.fields] + [
        "state_badge",
        "gst_turnover_inr",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OnboardingApplication]:
        user = request.user
        assert isinstance(user, User)
        return applications_visible_to_staff(user)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ApplicationChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: OnboardingApplication) -> str:
        return choice_badge(obj, "state")

    @admin.display(description="GST turnover (Rs)")
    def gst_turnover_inr(self, obj: OnboardingApplication) -> str:
        return indian_number(obj.gst_turnover) if obj.gst_turnover is not None else "-"

    @admin.display(description="Documents")
    def documents_summary(self, obj: OnboardingApplication) -> str:
        counts: dict[str, int] = {}
        for status in (document.status for document in obj.documents.all()):
            counts[status] = counts.get(status, 0) + 1
        return ", ".join(f"{count} {DocumentStatus(status).label.lower()}" for status, count in sorted(counts.items()))

    # --- what the state and the user allow ------------------------------------------------------

    def allowed_actions(self, user: User, obj: OnboardingApplication) -> tuple[list[str], list[str]]:
        """The buttons `user` gets on `obj`, and a line per action explaining who may act."""
        notes: list[str] = []
        if obj.state not in UNDECIDED_STATES and obj.state != ApplicationState.INFO_REQUESTED:
            notes.append(f"This application is {obj.get_state_display().lower()}: nothing is left to decide.")
            return [], notes
        actions: list[str] = []
        if can_assign(user, obj.organization_id):
            actions.append("assign_officer")
        review_refusal = _reason_refused(ensure_can_review, user, obj)
        if obj.state == ApplicationState.INFO_REQUESTED:
            notes.append("Waiting for the applicant to answer the request for information.")
        elif review_refusal is None:
            actions.append("request_info")
        else:
            notes.append(f"Documents and information requests: {review_refusal}")
        approve_refusal = _reason_refused(ensure_can_approve, user, obj)
        if approve_refusal is None:
            actions += ["approve", "reject"]
        else:
            notes.append(f"Approve / reject: {approve_refusal}")
        return actions, notes

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        user = request.user
        assert isinstance(user, User)
        application = self.get_object(request, object_id)
        if application is None:
            return []
        return self.allowed_actions(user, application)[0]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            context["who_may_act"] = self.allowed_actions(user, obj)[1]
            context["documents_panel"] = self.documents_panel(request, user, obj, context)
        return super().change_view(request, object_id, form_url, extra_context=context)

    # --- documents, reviewed in place --------------------------------------------------------

    def documents_panel(
        self, request: HttpRequest, user: User, obj: OnboardingApplication, context: dict[str, Any]
    ) -> dict[str, Any]:
        documents = list(obj.documents.select_related("verified_by").order_by("document_type", "created_at"))
        can_review = obj.state in UNDECIDED_STATES and _reason_refused(ensure_can_review, user, obj) is None
        wanted = request.GET.get("document")
        current = next((d for d in documents if str(d.pk) == wanted), None)
        if current is None:
            current = next((d for d in documents if d.status == DocumentStatus.PENDING), None) or (
                documents[0] if documents else None
            )
        preview_url = (
            reverse("partners-document-file", args=[current.pk])
            if current is not None and current.file and user.has_perm(VIEW_DOCUMENT)
            else ""
        )
        return {
            "documents": documents,
            "current": current,
            "preview_url": preview_url,
            "preview_is_image": bool(current and current.content_type.startswith("image/")),
            "can_review": can_review,
            "pending": sum(1 for d in documents if d.status == DocumentStatus.PENDING),
            "errors": context.get("document_errors", {}),
            "reasons": context.get("document_reasons", {}),
        }

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<uuid:pk>/documents/<uuid:document_id>/decide/",
                self.admin_site.admin_view(self.decide_document_view),
                name="partners_onboardingapplication_decide_document",
            ),
            path(
                "<uuid:pk>/documents/verify-all/",
                self.admin_site.admin_view(self.verify_all_view),
                name="partners_onboardingapplication_verify_all",
            ),
        ]
        return own + super().get_urls()

    def _change_url(self, obj: OnboardingApplication, document_id: UUID | None = None) -> str:
        url = reverse("admin:partners_onboardingapplication_change", args=[obj.pk])
        return f"{url}?document={document_id}" if document_id else url

    def decide_document_view(self, request: HttpRequest, pk: UUID, document_id: UUID) -> HttpResponse:
        """Verify or reject one document from the change page. A refusal (a rejection without
        a reason, say) shows the change page again with the error beside the document and the
        typed reason kept."""
        obj = self.get_object(request, str(pk))
        if obj is None or request.method != "POST":
            raise Http404("No such application.")
        document = obj.documents.filter(pk=document_id).first()
        if document is None:
            raise Http404("No such document.")
        decision = request.POST.get("decision")
        reason = request.POST.get("reason", "").strip()
        label = document.get_document_type_display()
        try:
            if decision == "verify":
                services.document_verify(actor=_actor(request), document_id=document.pk)
                done = f"{label} verified."
            else:
                services.document_reject(actor=_actor(request), document_id=document.pk, reason=reason)
                done = f"{label} rejected."
        except DomainError as exc:
            request.method = "GET"
            return self.change_view(
                request,
                str(obj.pk),
                extra_context={
                    "document_errors": {str(document.pk): f"{exc.detail} ({exc.code})"},
                    "document_reasons": {str(document.pk): reason},
                },
            )
        messages.success(request, done)
        self.log_service_action(request, obj, done)
        following = obj.documents.filter(status=DocumentStatus.PENDING).order_by("document_type").first()
        return HttpResponseRedirect(self._change_url(obj, following.pk if following else document.pk))

    def verify_all_view(self, request: HttpRequest, pk: UUID) -> HttpResponse:
        obj = self.get_object(request, str(pk))
        if obj is None or request.method != "POST":
            raise Http404("No such application.")
        verified, refused = [], []
        for document in obj.documents.filter(status=DocumentStatus.PENDING).order_by("document_type"):
            label = document.get_document_type_display()
            try:
                services.document_verify(actor=_actor(request), document_id=document.pk)
            except DomainError as exc:
                refused.append(f"{label}: {domain_error_message(exc)}")
            else:
                verified.append(label)
        if verified:
            done = f"Verified: {', '.join(verified)}."
            messages.success(request, done)
            self.log_service_action(request, obj, done)
        for refusal in refused:
            messages.error(request, refusal)
        if not verified and not refused:
            messages.info(request, "No document is waiting for review.")
        return HttpResponseRedirect(self._change_url(obj))

    # --- bulk ---------------------------------------------------------------------------------

    @admin.action(description="Assign a KYC officer to the selected applications")
    def assign_officer_to_selected(
        self, request: HttpRequest, queryset: QuerySet[OnboardingApplication]
    ) -> HttpResponse | None:
        """Each application through the assignment service; the answer lists per row what failed."""
        user = request.user
        assert isinstance(user, User)
        first = queryset.first()
        organization_id = user.organization_id or (first.organization_id if first is not None else None)
        form = BulkAssignForm(request.POST if "_confirm" in request.POST else None, organization_id=organization_id)
        if "_confirm" in request.POST and form.is_valid():
            officer = form.cleaned_data["officer"]
            done, failed = 0, []
            for application in queryset.order_by("legal_name"):
                try:
                    application_assign(
                        actor=user, application_id=application.pk, officer_id=officer.pk if officer else None
                    )
                except DomainError as exc:
                    failed.append(f"{application.legal_name}: {domain_error_message(exc)}")
                else:
                    done += 1
                    self.log_service_action(
                        request,
                        application,
                        f"KYC officer set to {officer.full_name or officer.email}"
                        if officer
                        else "KYC officer unassigned",
                    )
            if done:
                self.message_user(request, f"{done} application(s) assigned.", messages.SUCCESS)
            for failure in failed:
                self.message_user(request, failure, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Assign a KYC officer to the selected applications",
            "objects": queryset.order_by("legal_name"),
            "form": form,
            "action": "assign_officer_to_selected",
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/core/bulk_action_form.html", context)

    @action(
        button_type="a",
        label="Assign KYC officer",
        description="Assign the officer who reviews this application (grants the review right on it)",
    )
    def assign_officer(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = AssignOfficerForm(request.POST or None, application=obj)
        if request.method == "POST" and form.is_valid():
            officer = form.cleaned_data["officer"]
            if self.run_service(
                request,
                "KYC officer assigned." if officer else "KYC officer unassigned.",
                application_assign,
                application_id=obj.pk,
                officer_id=officer.pk if officer else None,
                form=form,
            ):
                return None
        return self.action_form_page(request, obj, form, "Assign a KYC officer", "Assign")

    @action(
        button_type="a",
        label="Request information",
        description="Send the application back to the applicant with a message",
    )
    def request_info(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = MessageForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Information requested.",
                services.application_request_info,
                application_id=obj.pk,
                message=form.cleaned_data["message"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Request information from the applicant", "Send")

    @action(button_type="a", label="Approve", description="Approve: creates the partner, its owner and head office")
    def approve(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = ApproveForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Application approved; the partner is created.",
                services.application_approve,
                application_id=obj.pk,
                credit_limit=form.cleaned_data["credit_limit"],
                note=form.cleaned_data["note"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Approve the application", "Approve")

    @action(button_type="a", label="Reject", description="Reject the application with a reason")
    def reject(self, request: HttpRequest, obj: OnboardingApplication) -> HttpResponse | None:
        form = RejectForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Application rejected.",
                services.application_reject,
                application_id=obj.pk,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Reject the application", "Reject")

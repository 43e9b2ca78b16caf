"""Limit changes of the staff member's organization: the history (old and new limit, reason, who
asked and who decided) and the queue of requests waiting for a second person, with Approve and
Reject buttons on a PENDING one. Each calls its service, which checks risk.approve_credit_limit
and maker-checker (the requester may not approve); a refusal is reported and nothing changes."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_object_actions import DjangoObjectActions, action

from apps.core.admin import ServiceActionsMixin
from apps.risk import selectors
from apps.risk.admin.common import ReadOnlyAdmin, actor
from apps.risk.errors import LimitChangeNotFound
from apps.risk.models import LimitChange, LimitChangeStatus
from apps.risk.services.limits import REASON_MAX_LENGTH, credit_limit_approve, credit_limit_reject


class DecisionForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea, required=False, max_length=REASON_MAX_LENGTH)


@admin.register(LimitChange)
class LimitChangeAdmin(ServiceActionsMixin, DjangoObjectActions, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "partner",
        "old_limit",
        "new_limit",
        "status",
        "source",
        "reason",
        "requested_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "source")
    search_fields = ("partner__code", "partner__legal_name", "reason")
    list_select_related = ("partner", "requested_by", "decided_by")
    ordering = ("-created_at",)
    change_actions = ("approve", "reject")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LimitChange]:
        return selectors.limit_changes_visible_to(actor(request))

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> tuple[str, ...]:
        try:
            pending = self.get_queryset(request).filter(pk=object_id, status=LimitChangeStatus.PENDING).exists()
        except (ValueError, ValidationError):  # not a UUID: the change view answers it
            return ()
        return tuple(self.change_actions) if pending else ()

    def _in_scope(self, request: HttpRequest, obj: LimitChange) -> bool:
        if self.get_queryset(request).filter(pk=obj.pk).exists():
            return True
        self.message_user(request, f"{LimitChangeNotFound.default_detail} ({LimitChangeNotFound.code})", messages.ERROR)
        return False

    @action(button_type="a", label="Approve", description="Apply the requested limit")
    def approve(self, request: HttpRequest, obj: LimitChange) -> HttpResponse | None:
        if not self._in_scope(request, obj):
            return None
        form = DecisionForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Limit approved and applied.",
                credit_limit_approve,
                change_id=obj.pk,
                note=form.cleaned_data["note"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Approve the limit change", "Approve")

    @action(button_type="a", label="Reject", description="Refuse the requested limit")
    def reject(self, request: HttpRequest, obj: LimitChange) -> HttpResponse | None:
        if not self._in_scope(request, obj):
            return None
        form = DecisionForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Limit change rejected.",
                credit_limit_reject,
                change_id=obj.pk,
                note=form.cleaned_data["note"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Reject the limit change", "Reject")

"""Back office of partner amendments: the queue of requested changes (bank, GST, address, legal,
credit limit), filtered by status and kind, old and new values side by side.

Desk managers and organization admins decide here with the Approve (optional note) and Reject
(reason) buttons. Each calls its service, which checks the capability, maker-checker and that
the amendment is not stale; a refusal is reported with message_user and nothing changes. Bank
account numbers are shown masked, as everywhere outside the database.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django_object_actions import DjangoObjectActions, action

from apps.accounts.models import User
from apps.core.admin import ServiceActionsMixin
from apps.partners.errors import AmendmentNotFound
from apps.partners.models import AmendmentStatus, PartnerAmendment
from apps.partners.selectors import amendments_visible_to_staff
from apps.partners.services.amendments import (
    REASON_MAX_LENGTH,
    amendment_approve,
    amendment_reject,
    changed_fields,
    masked_values,
)


class AmendmentApproveForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea, required=False, max_length=REASON_MAX_LENGTH)


class AmendmentRejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=REASON_MAX_LENGTH)


@admin.register(PartnerAmendment)
class PartnerAmendmentAdmin(ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
    list_display = ("partner", "kind", "status", "changed", "requested_by", "created_at", "decided_by", "decided_at")
    list_filter = ("status", "kind")
    list_select_related = ("partner", "requested_by", "decided_by")
    search_fields = ("partner__code", "partner__legal_name")
    ordering = ("-created_at",)
    fields = (
        "partner",
        "kind",
        "status",
        "values_side_by_side",
        "reason",
        "requested_by",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields
    change_actions = ("approve", "reject")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerAmendment]:
        user = request.user
        assert isinstance(user, User)
        return amendments_visible_to_staff(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        """The buttons only on a PENDING amendment the staff member may see."""
        try:
            pending = self.get_queryset(request).filter(pk=object_id, status=AmendmentStatus.PENDING).exists()
        except (ValueError, ValidationError):  # not a UUID: the change view answers it
            return ()
        return self.change_actions if pending else ()

    @admin.display(description="Changed fields")
    def changed(self, obj: PartnerAmendment) -> str:
        return ", ".join(changed_fields(obj))

    @admin.display(description="Old and new values")
    def values_side_by_side(self, obj: PartnerAmendment) -> str:
        old, new, changed = masked_values(obj.old_values), masked_values(obj.new_values), set(changed_fields(obj))
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    name,
                    "" if old.get(name) is None else old.get(name),
                    "" if value is None else value,
                    "changed" if name in changed else "",
                )
                for name, value in new.items()
            ),
        )
        return format_html(
            "<table><thead><tr><th>Field</th><th>Old</th><th>New</th><th></th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def _in_scope(self, request: HttpRequest, obj: PartnerAmendment) -> bool:
        """The action views fetch the object unscoped: report an amendment outside the staff
        member's organization as missing and do nothing."""
        if self.get_queryset(request).filter(pk=obj.pk).exists():
            return True
        self.message_user(request, f"{AmendmentNotFound.default_detail} ({AmendmentNotFound.code})", messages.ERROR)
        return False

    @action(button_type="a", label="Approve", description="Apply the new values to the partner")
    def approve(self, request: HttpRequest, obj: PartnerAmendment) -> HttpResponse | None:
        if not self._in_scope(request, obj):
            return None
        form = AmendmentApproveForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Amendment approved; the partner's values are changed.",
                amendment_approve,
                amendment_id=obj.pk,
                note=form.cleaned_data["note"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Approve the amendment", "Approve")

    @action(button_type="a", label="Reject", description="Refuse the amendment with a reason")
    def reject(self, request: HttpRequest, obj: PartnerAmendment) -> HttpResponse | None:
        if not self._in_scope(request, obj):
            return None
        form = AmendmentRejectForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Amendment rejected.",
                amendment_reject,
                amendment_id=obj.pk,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Reject the amendment", "Reject")

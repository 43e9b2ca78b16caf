"""The risk desk: a dashboard (partners by utilisation band with counts, the newest alerts, limit
changes waiting for approval) and the credit rows of the staff member's organization, filtered
by band and searched by partner, each with its exposure broken down by stage, its open ledger
entries (linked to their sources), its limit history and assessments, the counterparty score and
the recommended limit (shown, never applied), and a "Set limit" button (services.limits)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django_object_actions import DjangoObjectActions, action

from apps.core.admin import ServiceActionsMixin
from apps.risk import selectors
from apps.risk.admin.common import ReadOnlyAdmin, actor, source_link
from apps.risk.models import (
    STAGE_TOTAL_FIELD,
    Assessment,
    CreditAccount,
    ExposureEntry,
    LimitChange,
    LimitChangeStatus,
    UtilisationLevel,
)
from apps.risk.rules import counterparty_score, recommended_limit
from apps.risk.services.limits import REASON_MAX_LENGTH, credit_limit_set


class LimitSetForm(forms.Form):
    credit_limit = forms.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal(0))
    reason = forms.CharField(widget=forms.Textarea, max_length=REASON_MAX_LENGTH)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    """A small read-only HTML table (every cell escaped; pre-built links kept)."""
    if not rows:
        return "-"
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@admin.register(CreditAccount)
class CreditAccountAdmin(ServiceActionsMixin, DjangoObjectActions, ReadOnlyAdmin):
    list_display = (
        "partner",
        "credit_limit",
        "exposure",
        "utilisation_percent",
        "level",
        "rating",
        "payment_performance",
        "delivery_performance",
        "score",
        "recommended",
    )
    list_filter = ("level",)
    search_fields = ("partner__code", "partner__legal_name", "partner__trade_name")
    list_select_related = ("partner",)
    ordering = ("-exposure",)
    readonly_fields = (
        "utilisation_percent",
        "headroom",
        "stage_breakdown",
        "score",
        "recommended",
        "open_entries",
        "limit_history",
        "recent_assessments",
    )
    change_actions = ("set_limit",)
    change_list_template = "admin/risk/creditaccount/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditAccount]:
        return selectors.credit_accounts_visible_to(actor(request))

    @admin.display(description="Utilisation")
    def utilisation_percent(self, obj: CreditAccount) -> str:
        return _percent(obj.utilisation)

    @admin.display(description="Headroom")
    def headroom(self, obj: CreditAccount) -> Decimal:
        return obj.headroom

    @admin.display(description="Exposure by stage (open amount)")
    def stage_breakdown(self, obj: CreditAccount) -> str:
        entries_url = reverse("admin:risk_exposureentry_changelist")
        return format_html_join(
            "",
            '<a href="{}">{}</a>: {}<br>',
            (
                (
                    f"{entries_url}?partner__id__exact={obj.partner_id}&stage__exact={stage}&open=yes",
                    stage,
                    getattr(obj, field),
                )
                for stage, field in STAGE_TOTAL_FIELD.items()
            ),
        )

    @admin.display(description="Open exposure entries")
    def open_entries(self, obj: CreditAccount) -> str:
        entries = ExposureEntry.objects.filter(partner_id=obj.partner_id, released_at__isnull=True).order_by(
            "-booked_at"
        )[:100]
        return _table(
            ["Booked", "Stage", "Amount", "Source"],
            [[e.booked_at, e.stage, e.amount, source_link(e.source_type, e.source_id)] for e in entries],
        )

    @admin.display(description="Limit history")
    def limit_history(self, obj: CreditAccount) -> str:
        changes = (
            LimitChange.objects.filter(partner_id=obj.partner_id)
            .select_related("requested_by", "decided_by")
            .order_by("-created_at")[:50]
        )
        return _table(
            ["When", "Old", "New", "Status", "Source", "Reason", "Asked by", "Decided by"],
            [
                [
                    c.created_at,
                    c.old_limit,
                    c.new_limit,
                    c.status,
                    c.source,
                    c.reason,
                    c.requested_by or "-",
                    c.decided_by or "-",
                ]
                for c in changes
            ],
        )

    @admin.display(description="Assessments (newest 20)")
    def recent_assessments(self, obj: CreditAccount) -> str:
        assessments = Assessment.objects.filter(partner_id=obj.partner_id).order_by("-created_at")[:20]
        return _table(
            ["When", "Side", "Result", "Score", "Factors", "Source"],
            [
                [
                    a.created_at,
                    a.side,
                    a.result,
                    a.score,
                    ", ".join(f"{f['code']} ({f['points']})" for f in a.factors) or "-",
                    source_link(a.source_type, a.source_id),
                ]
                for a in assessments
            ],
        )

    @admin.display(description="Counterparty score")
    def score(self, obj: CreditAccount) -> int:
        return counterparty_score(
            rating=obj.rating,
            payment_performance=obj.payment_performance,
            delivery_performance=obj.delivery_performance,
        )

    @admin.display(description="Recommended limit (not applied)")
    def recommended(self, obj: CreditAccount) -> Decimal:
        return recommended_limit(
            obj.credit_limit, rating=obj.rating, performance=min(obj.payment_performance, obj.delivery_performance)
        )

    @action(button_type="a", label="Set limit", description="Set the credit limit, or request an increase")
    def set_limit(self, request: HttpRequest, obj: CreditAccount) -> HttpResponse | None:
        form = LimitSetForm(request.POST or None, initial={"credit_limit": obj.credit_limit})
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Limit change recorded (applied, or waiting for a second person's approval).",
                credit_limit_set,
                partner_id=obj.partner_id,
                credit_limit=form.cleaned_data["credit_limit"],
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Set the credit limit", "Save")

    # --- the dashboard ------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        dashboard = path(
            "dashboard/", self.admin_site.admin_view(self.dashboard_view), name="risk_creditaccount_dashboard"
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        user = actor(request)
        if not self.has_view_permission(request):
            return render(request, "admin/risk/dashboard.html", {"denied": True}, status=403)
        counts = dict(
            selectors.credit_accounts_visible_to(user).values_list("level").annotate(n=Count("id")).order_by()
        )
        changelist = reverse("admin:risk_creditaccount_changelist")
        bands = [
            {"level": value, "label": label, "count": counts.get(value, 0), "url": f"{changelist}?level__exact={value}"}
            for value, label in reversed(UtilisationLevel.choices)
        ]
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Risk dashboard",
            "bands": bands,
            "alerts": selectors.alerts_visible_to(user).select_related("partner").order_by("-created_at")[:15],
            "pending": selectors.limit_changes_visible_to(user)
            .filter(status=LimitChangeStatus.PENDING)
            .select_related("partner", "requested_by")
            .order_by("created_at")[:50],
            "top": selectors.credit_accounts_visible_to(user).order_by("-exposure")[:10],
        }
        return render(request, "admin/risk/dashboard.html", context)

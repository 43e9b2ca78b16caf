"""Credit limits over the API (SPEC section 13): `risk/limits/` (the credit rows: list; set or
request a limit), `risk/limits/changes/` (the history and the requests waiting), and
`risk/limits/changes/{id}/approve` and `/reject`.

Readers: staff of the organization with risk.view_creditaccount / risk.view_limitchange, and a
partner's own users (their partner's rows only). Writers: the services decide (risk officers and
organization admins; a second person approves an increase above the threshold).
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import CappedCursorPagination
from apps.risk import selectors
from apps.risk.api.common import PAGE_PARAMETERS, TAG, PageOutput, ensure_staff_may_read, money, user, validated
from apps.risk.errors import LimitChangeNotFound
from apps.risk.models import CreditAccount, LimitChangeSource, LimitChangeStatus, UtilisationLevel
from apps.risk.permissions import can_see_recommendations
from apps.risk.rules import counterparty_score, recommended_limit
from apps.risk.services import limits as services

# --- output ---------------------------------------------------------------------------------------


class CreditAccountOutput(serializers.Serializer):
    partner_id = serializers.UUIDField()
    partner_code = serializers.CharField(source="partner.code")
    partner_name = serializers.CharField(source="partner.legal_name")
    currency = serializers.CharField()
    credit_limit = money()
    exposure = money(help_text="Open amounts weighted by stage (organization data).")
    headroom = money()
    utilisation = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="exposure / limit; null for a zero limit."
    )
    level = serializers.ChoiceField(choices=UtilisationLevel.choices)
    level_changed_at = serializers.DateTimeField(allow_null=True)
    posted_amount = money()
    matched_amount = money()
    negotiating_amount = money()
    contracted_amount = money()
    delivered_unbilled_amount = money()
    invoiced_amount = money()
    rating = serializers.DecimalField(max_digits=3, decimal_places=2)
    payment_performance = serializers.DecimalField(max_digits=5, decimal_places=2)
    delivery_performance = serializers.DecimalField(max_digits=5, decimal_places=2)
    counterparty_score = serializers.IntegerField(allow_null=True, help_text="Risk officers only; else null.")
    recommended_limit = money(allow_null=True, help_text="Risk officers only; never applied automatically. Else null.")
    limit_changed_at = serializers.DateTimeField(allow_null=True)


class CreditAccountPageOutput(PageOutput):
    results = CreditAccountOutput(many=True)


def _with_recommendations(account: CreditAccount, *, officer: bool) -> CreditAccount:
    """The row with its counterparty score and recommended limit for risk officers (None else)."""
    score: int | None = None
    recommended: Decimal | None = None
    if officer:
        score = counterparty_score(
            rating=account.rating,
            payment_performance=account.payment_performance,
            delivery_performance=account.delivery_performance,
        )
        recommended = recommended_limit(
            account.credit_limit,
            rating=account.rating,
            performance=min(account.payment_performance, account.delivery_performance),
        )
    setattr(account, "counterparty_score", score)  # noqa: B010
    setattr(account, "recommended_limit", recommended)  # noqa: B010
    return account


class LimitChangeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner_id = serializers.UUIDField()
    old_limit = money()
    new_limit = money()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=LimitChangeStatus.choices)
    origin = serializers.ChoiceField(
        source="source",
        choices=LimitChangeSource.choices,
        help_text="Who asked: the back office or a partner amendment.",
    )
    amendment_id = serializers.UUIDField(allow_null=True)
    requested_by_id = serializers.UUIDField(allow_null=True)
    decided_by_id = serializers.UUIDField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()


class LimitChangePageOutput(PageOutput):
    results = LimitChangeOutput(many=True)


# --- input ----------------------------------------------------------------------------------------


class LimitSetInput(serializers.Serializer):
    partner_id = serializers.UUIDField()
    credit_limit = serializers.CharField(
        max_length=40, help_text='The new limit, a decimal string of 0 or more, e.g. "2500000.00".'
    )
    reason = serializers.CharField(max_length=1000, allow_blank=True, help_text="Why the limit changes (required).")


class LimitDecisionInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.REASON_MAX_LENGTH, default="")


class CreditAccountFilters(serializers.Serializer):
    level = serializers.ChoiceField(choices=UtilisationLevel.choices, required=False)
    partner = serializers.UUIDField(required=False, help_text="A partner id.")


class LimitChangeFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=LimitChangeStatus.choices, required=False)
    partner = serializers.UUIDField(required=False, help_text="A partner id.")


# --- views ----------------------------------------------------------------------------------------


class CreditLimitCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="risk_limits_list",
        parameters=[CreditAccountFilters, *PAGE_PARAMETERS],
        responses=CreditAccountPageOutput,
    )
    def get(self, request: Request) -> Response:
        actor = user(request)
        ensure_staff_may_read(actor, "risk.view_creditaccount")
        filters = validated(CreditAccountFilters, request.query_params)
        accounts = selectors.credit_accounts_visible_to(actor)
        if "level" in filters:
            accounts = accounts.filter(level=filters["level"])
        if "partner" in filters:
            accounts = accounts.filter(partner_id=filters["partner"])
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(accounts, request, view=self)
        officer = can_see_recommendations(actor)
        rows = [_with_recommendations(account, officer=officer) for account in page or []]
        return paginator.get_paginated_response(CreditAccountOutput(rows, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="risk_limit_set",
        request=LimitSetInput,
        responses={201: LimitChangeOutput},
        description="Set a partner's credit limit (APPLIED at once), or request an increase larger than the "
        "organization's approval threshold (PENDING until a second person approves).",
    )
    def post(self, request: Request) -> Response:
        values = validated(LimitSetInput, request.data)
        change = services.credit_limit_set(
            actor=user(request),
            partner_id=values["partner_id"],
            credit_limit=values["credit_limit"],
            reason=values["reason"],
        )
        return Response(LimitChangeOutput(change).data, status=201)


class LimitChangeCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="risk_limit_changes_list",
        parameters=[LimitChangeFilters, *PAGE_PARAMETERS],
        responses=LimitChangePageOutput,
    )
    def get(self, request: Request) -> Response:
        actor = user(request)
        ensure_staff_may_read(actor, "risk.view_limitchange")
        filters = validated(LimitChangeFilters, request.query_params)
        changes = selectors.limit_changes_visible_to(actor)
        if "status" in filters:
            changes = changes.filter(status=filters["status"])
        if "partner" in filters:
            changes = changes.filter(partner_id=filters["partner"])
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(changes, request, view=self)
        return paginator.get_paginated_response(LimitChangeOutput(page, many=True).data)


def _visible_change(request: Request, change_id: UUID) -> None:
    if not selectors.limit_changes_visible_to(user(request)).filter(pk=change_id).exists():
        raise LimitChangeNotFound()


class LimitChangeApproveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="risk_limit_change_approve", request=LimitDecisionInput, responses=LimitChangeOutput
    )
    def post(self, request: Request, change_id: UUID) -> Response:
        _visible_change(request, change_id)
        note = validated(LimitDecisionInput, request.data)["note"]
        change = services.credit_limit_approve(actor=user(request), change_id=change_id, note=note)
        return Response(LimitChangeOutput(change).data)


class LimitChangeRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="risk_limit_change_reject", request=LimitDecisionInput, responses=LimitChangeOutput
    )
    def post(self, request: Request, change_id: UUID) -> Response:
        _visible_change(request, change_id)
        note = validated(LimitDecisionInput, request.data)["note"]
        change = services.credit_limit_reject(actor=user(request), change_id=change_id, note=note)
        return Response(LimitChangeOutput(change).data)


C = "risk/limits/changes/<uuid:change_id>"

urlpatterns = [
    path("risk/limits/", CreditLimitCollectionApi.as_view(), name="risk-limits"),
    path("risk/limits/changes/", LimitChangeCollectionApi.as_view(), name="risk-limit-changes"),
    path(f"{C}/approve", LimitChangeApproveApi.as_view(), name="risk-limit-change-approve"),
    path(f"{C}/reject", LimitChangeRejectApi.as_view(), name="risk-limit-change-reject"),
]

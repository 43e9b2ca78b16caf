"""The exposure ledger and assessments over the API (SPEC section 13): `risk/exposure/` and
`risk/assessments/`, read-only. Staff of the organization with risk.view_exposureentry /
risk.view_assessment see its rows; a partner's own users see their partner's."""

from __future__ import annotations

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
from apps.risk.models import AssessmentSide, CheckResult, ExposureStage


class ExposureEntryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner_id = serializers.UUIDField()
    stage = serializers.ChoiceField(choices=ExposureStage.choices)
    amount = money()
    currency = serializers.CharField()
    source_type = serializers.CharField()
    source_id = serializers.UUIDField()
    booked_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)
    release_reason = serializers.CharField(help_text="RELEASED, MOVED or RESIZED once released; else empty.")


class ExposureEntryPageOutput(PageOutput):
    results = ExposureEntryOutput(many=True)


class ExposureFilters(serializers.Serializer):
    partner = serializers.UUIDField(required=False, help_text="A partner id.")
    stage = serializers.ChoiceField(choices=ExposureStage.choices, required=False)
    open = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="true: not released.")
    source_type = serializers.CharField(required=False, max_length=40)
    source_id = serializers.UUIDField(required=False)


class AssessmentFactorOutput(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    points = serializers.IntegerField()


class AssessmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner_id = serializers.UUIDField()
    side = serializers.ChoiceField(choices=AssessmentSide.choices)
    amount = money()
    stage = serializers.ChoiceField(choices=ExposureStage.choices)
    counterparty_id = serializers.UUIDField(allow_null=True)
    source_type = serializers.CharField()
    source_id = serializers.UUIDField(allow_null=True)
    result = serializers.ChoiceField(choices=CheckResult.choices)
    score = serializers.IntegerField()
    factors = AssessmentFactorOutput(many=True)
    inputs = serializers.DictField(child=serializers.CharField(), help_text="What the rules read, as strings.")
    rules_version = serializers.CharField()
    created_at = serializers.DateTimeField()


class AssessmentPageOutput(PageOutput):
    results = AssessmentOutput(many=True)


class AssessmentFilters(serializers.Serializer):
    partner = serializers.UUIDField(required=False, help_text="A partner id.")
    result = serializers.ChoiceField(choices=CheckResult.choices, required=False)
    side = serializers.ChoiceField(choices=AssessmentSide.choices, required=False)
    source_type = serializers.CharField(required=False, max_length=40)
    source_id = serializers.UUIDField(required=False)


class ExposureCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="risk_exposure_list",
        parameters=[ExposureFilters, *PAGE_PARAMETERS],
        responses=ExposureEntryPageOutput,
    )
    def get(self, request: Request) -> Response:
        actor = user(request)
        ensure_staff_may_read(actor, "risk.view_exposureentry")
        filters = validated(ExposureFilters, request.query_params)
        entries = selectors.exposure_entries_visible_to(actor)
        for name in ("stage", "source_type", "source_id"):
            if name in filters:
                entries = entries.filter(**{name: filters[name]})
        if "partner" in filters:
            entries = entries.filter(partner_id=filters["partner"])
        if filters.get("open") is not None:
            entries = entries.filter(released_at__isnull=filters["open"])
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(ExposureEntryOutput(page, many=True).data)


class AssessmentCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="risk_assessments_list",
        parameters=[AssessmentFilters, *PAGE_PARAMETERS],
        responses=AssessmentPageOutput,
    )
    def get(self, request: Request) -> Response:
        actor = user(request)
        ensure_staff_may_read(actor, "risk.view_assessment")
        filters = validated(AssessmentFilters, request.query_params)
        assessments = selectors.assessments_visible_to(actor)
        for name in ("result", "side", "source_type", "source_id"):
            if name in filters:
                assessments = assessments.filter(**{name: filters[name]})
        if "partner" in filters:
            assessments = assessments.filter(partner_id=filters["partner"])
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(assessments, request, view=self)
        return paginator.get_paginated_response(AssessmentOutput(page, many=True).data)


urlpatterns = [
    path("risk/exposure/", ExposureCollectionApi.as_view(), name="risk-exposure"),
    path("risk/assessments/", AssessmentCollectionApi.as_view(), name="risk-assessments"),
]
